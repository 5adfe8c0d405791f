{#-
    One row per order (a purchase event) with its total. Silver events do not carry the total:
    it is the sum of the order's line totals in silver order items (docs/lake.md).
    A view: it groups by event_date, so a date filter on it prunes the lake's partitions.
-#}

with

order_items as (

    select * from {{ ref('stg_lake__order_items') }}

),

orders_aggregated as (

    select
        event_id,
        order_id,
        user_id,
        event_at,
        event_date,
        count(*) as line_count,
        sum(quantity) as unit_count,
        sum(line_total) as order_total

    from order_items
    group by event_id, order_id, user_id, event_at, event_date

)

select * from orders_aggregated
