-- Every purchase has order lines, as many as its item_count, under its order_id. Returns the
-- purchases that disagree with their order items.

with

events as (

    select * from {{ ref('stg_lake__events') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

purchases as (

    select
        event_id,
        order_id,
        item_count

    from events
    where event_type = 'purchase'

),

compared as (

    select
        purchases.event_id,
        purchases.order_id,
        orders.order_id as order_items_order_id,
        purchases.item_count,
        orders.line_count

    from purchases
    left join orders
        on purchases.event_id = orders.event_id

)

select * from compared
where
    item_count is distinct from line_count
    or order_id is distinct from order_items_order_id
