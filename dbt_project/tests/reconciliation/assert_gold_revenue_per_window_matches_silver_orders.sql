-- Flink's gold revenue_per_window agrees with silver orders: per window, the number of orders
-- and the sum of their line totals. Checked over the span gold covers; returns the windows that
-- disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_revenue_per_window') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

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
        count(*) as order_count,
        sum(orders.order_total) as revenue

    from orders
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
        keys=['window_start'],
        measures=['order_count', 'revenue']
    ) }}

)

select * from compared
