{%- set date_range = incremental_date_range('event_date') -%}

with

funnel_users as (

    select * from {{ ref('int_funnel_users_staged') }}
    where {{ in_date_range('event_date', date_range) }}

),

cells_aggregated as (

    select
        event_date,
        device_type,
        category,
        sum(product_view_count) as product_view_count,
        sum(add_to_cart_count) as add_to_cart_count,
        sum(order_count) as order_count,
        sum(revenue) as revenue,
        count(first_viewed_at) as viewed_user_count,
        count(first_carted_at) as carted_user_count,
        count(first_ordered_at) as purchased_user_count

    from funnel_users
    group by event_date, device_type, category

),

final as (

    select
        event_date,
        device_type,
        category,
        cast(product_view_count as bigint) as product_view_count,
        cast(add_to_cart_count as bigint) as add_to_cart_count,
        cast(order_count as bigint) as order_count,
        cast(revenue as decimal(18, 2)) as revenue,
        viewed_user_count,
        carted_user_count,
        purchased_user_count,
        carted_user_count / nullif(viewed_user_count, 0) as view_to_cart_rate,
        purchased_user_count / nullif(carted_user_count, 0) as cart_to_purchase_rate,
        purchased_user_count / nullif(viewed_user_count, 0) as view_to_purchase_rate

    from cells_aggregated

)

select * from final
