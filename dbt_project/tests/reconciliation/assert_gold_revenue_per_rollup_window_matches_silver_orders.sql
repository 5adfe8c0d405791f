-- Flink's gold revenue_per_rollup_window agrees with silver orders per window of each rollup
-- size, recomputed from silver (not from the finer windows): distinct orders and the sum of their
-- line totals, over the span gold covers at that size. Returns the windows that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_revenue_per_rollup_window') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

gold_spans as (

    {{ rollup_spans('gold_windows') }}

),

silver_windows as (

    {% for minutes in rollup_minutes() %}
    {{ "union all" if not loop.first }}
    select
        {{ minutes }} as window_minutes,
        time_bucket(
            to_minutes({{ minutes }}), orders.event_at, timestamp '1970-01-01'
        ) as window_start,
        count(distinct orders.order_id) as order_count,
        sum(orders.order_total) as revenue

    from orders
    inner join gold_spans
        on {{ in_rollup_span('orders.event_at', minutes) }}
    group by all
    {% endfor %}

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_minutes', 'window_start'],
        measures=['order_count', 'revenue']
    ) }}

)

select * from compared
