-- Flink's gold revenue_by_category_per_window agrees with silver order items per window and
-- category ('unknown' when missing): units sold (sum of quantity) and line totals. Checked over
-- the span gold covers; returns the windows and categories that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_revenue_by_category_per_window') }}

),

order_items as (

    select * from {{ ref('stg_lake__order_items') }}

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
            to_minutes({{ var('window_minutes') }}), order_items.event_at, timestamp '1970-01-01'
        ) as window_start,
        coalesce(order_items.category, 'unknown') as category,
        sum(order_items.quantity) as items_sold,
        sum(order_items.line_total) as revenue

    from order_items
    inner join gold_span
        on
            order_items.event_at >= gold_span.first_window_start
            and order_items.event_at
            < gold_span.last_window_start + to_minutes({{ var('window_minutes') }})
    group by all

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_start', 'category'],
        measures=['items_sold', 'revenue']
    ) }}

)

select * from compared
