-- Flink's gold purchases_by_device_per_window agrees with silver orders per window and device of
-- the purchase event: their number and line totals. Checked over the span gold covers; returns
-- the windows and devices that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_purchases_by_device_per_window') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

events as (

    select * from {{ ref('stg_lake__events') }}

),

gold_span as (

    select
        min(window_start) as first_window_start,
        max(window_start) as last_window_start

    from gold_windows

),

silver_windows as (

    select
        time_bucket(
            to_minutes({{ var('window_minutes') }}), orders.event_at, timestamp '1970-01-01'
        ) as window_start,
        purchases.device_type,
        count(*) as purchase_count,
        sum(orders.order_total) as revenue

    from orders
    inner join events as purchases
        on
            orders.event_id = purchases.event_id
            and orders.event_date = purchases.event_date
    inner join gold_span
        on
            orders.event_at >= gold_span.first_window_start
            and orders.event_at
            < gold_span.last_window_start + to_minutes({{ var('window_minutes') }})
    group by all

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_start', 'device_type'],
        measures=['purchase_count', 'revenue']
    ) }}

)

select * from compared
