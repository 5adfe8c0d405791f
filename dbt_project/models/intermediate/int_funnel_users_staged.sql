{#-
    One row per user and funnel cell (event_date, device_type, category) with the user's step
    events there: product views and add-to-carts (silver events) and orders (silver order items —
    a purchase counts in each of its items' categories, on the purchase event's device). A missing
    category is 'unknown'.

    first_*_at are the times the user reached each step *in order*: the first view, the first
    add-to-cart at or after it, the first order at or after that one. A later step only counts
    after the earlier one, so step counts built from this are monotonic by construction.

    A view: every step groups by event_date, so a date filter on it prunes the lake's partitions.
-#}

with

events as (

    select * from {{ ref('stg_lake__events') }}

),

order_items as (

    select * from {{ ref('stg_lake__order_items') }}

),

product_steps as (

    select
        event_date,
        device_type,
        coalesce(category, 'unknown') as category,
        user_id,
        event_type,
        event_at,
        cast(null as decimal(18, 2)) as revenue

    from events
    where event_type in ('product_view', 'add_to_cart')

),

orders_by_category as (

    -- one row per order and category of its items
    select
        event_id,
        event_date,
        user_id,
        event_at,
        coalesce(category, 'unknown') as category,
        sum(line_total) as revenue

    from order_items
    group by event_id, event_date, user_id, event_at, coalesce(category, 'unknown')

),

order_steps as (

    select
        orders_by_category.event_date,
        purchases.device_type,
        orders_by_category.category,
        orders_by_category.user_id,
        'purchase' as event_type,
        orders_by_category.event_at,
        orders_by_category.revenue

    from orders_by_category
    -- Same event, so same dt= partition: the date equality lets a date filter prune both sides.
    inner join events as purchases
        on
            orders_by_category.event_id = purchases.event_id
            and orders_by_category.event_date = purchases.event_date

),

funnel_steps as (

    select * from product_steps
    union all
    select * from order_steps

),

users_aggregated as (

    select
        event_date,
        device_type,
        category,
        user_id,
        count(*) filter (where event_type = 'product_view') as product_view_count,
        count(*) filter (where event_type = 'add_to_cart') as add_to_cart_count,
        count(*) filter (where event_type = 'purchase') as order_count,
        coalesce(sum(revenue), 0) as revenue,
        min(event_at) filter (where event_type = 'product_view') as first_viewed_at,
        list(event_at) filter (where event_type = 'add_to_cart') as carted_ats,
        list(event_at) filter (where event_type = 'purchase') as ordered_ats

    from funnel_steps
    group by event_date, device_type, category, user_id

),

users_carted as (

    select
        * exclude (carted_ats),
        list_min(list_filter(carted_ats, lambda carted_at: carted_at >= first_viewed_at))
            as first_carted_at

    from users_aggregated

),

final as (

    select
        * exclude (ordered_ats),
        list_min(list_filter(ordered_ats, lambda ordered_at: ordered_at >= first_carted_at))
            as first_ordered_at

    from users_carted

)

select * from final
