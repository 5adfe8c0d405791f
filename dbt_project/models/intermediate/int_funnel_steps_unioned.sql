{#-
    The events that move a user down the purchase funnel, one row per step event, labelled with
    the (event_date, device_type, category) cell they count in:
    1 = product_view, 2 = add_to_cart (silver events), 3 = a purchased order line (silver order
    items: a purchase's category is its items' categories; its device is the purchase event's).
    A missing category is counted as 'unknown'.
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
        case event_type when 'product_view' then 1 when 'add_to_cart' then 2 end as funnel_step,
        event_at,
        cast(null as varchar) as order_id,
        cast(null as decimal(12, 2)) as revenue

    from events
    where event_type in ('product_view', 'add_to_cart')

),

purchase_steps as (

    select
        order_items.event_date,
        purchases.device_type,
        coalesce(order_items.category, 'unknown') as category,
        order_items.user_id,
        3 as funnel_step,
        order_items.event_at,
        order_items.order_id,
        order_items.line_total as revenue

    from order_items
    -- Same event, so the same dt= partition: the date equality lets a date filter prune both.
    inner join events as purchases
        on
            order_items.event_id = purchases.event_id
            and order_items.event_date = purchases.event_date

),

final as (

    select * from product_steps
    union all
    select * from purchase_steps

)

select * from final
