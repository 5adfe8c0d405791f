{%- set date_range = incremental_date_range('event_date') -%}

with

funnel_steps as (

    select * from {{ ref('int_funnel_steps_unioned') }}
    where {{ in_date_range('event_date', date_range) }}

),

funnel_users as (

    select * from {{ ref('int_funnel_users_staged') }}
    where {{ in_date_range('event_date', date_range) }}

),

step_events_counted as (

    select
        event_date,
        device_type,
        category,
        count(*) filter (where funnel_step = 1) as product_view_count,
        count(*) filter (where funnel_step = 2) as add_to_cart_count,
        count(distinct order_id) filter (where funnel_step = 3) as order_count,
        coalesce(sum(revenue) filter (where funnel_step = 3), 0) as revenue

    from funnel_steps
    group by event_date, device_type, category

),

step_users_counted as (

    select
        event_date,
        device_type,
        category,
        count(*) as viewed_user_count,
        count(first_carted_at) as carted_user_count,
        count(first_purchased_at) as purchased_user_count

    from funnel_users
    group by event_date, device_type, category

),

final as (

    select
        step_events_counted.event_date,
        step_events_counted.device_type,
        step_events_counted.category,
        step_events_counted.product_view_count,
        step_events_counted.add_to_cart_count,
        step_events_counted.order_count,
        cast(step_events_counted.revenue as decimal(18, 2)) as revenue,
        coalesce(step_users_counted.viewed_user_count, 0) as viewed_user_count,
        coalesce(step_users_counted.carted_user_count, 0) as carted_user_count,
        coalesce(step_users_counted.purchased_user_count, 0) as purchased_user_count,
        step_users_counted.carted_user_count
        / nullif(step_users_counted.viewed_user_count, 0) as view_to_cart_rate,
        step_users_counted.purchased_user_count
        / nullif(step_users_counted.carted_user_count, 0) as cart_to_purchase_rate,
        step_users_counted.purchased_user_count
        / nullif(step_users_counted.viewed_user_count, 0) as view_to_purchase_rate

    from step_events_counted
    left join step_users_counted
        on
            step_events_counted.event_date = step_users_counted.event_date
            and step_events_counted.device_type = step_users_counted.device_type
            and step_events_counted.category = step_users_counted.category

)

select * from final
