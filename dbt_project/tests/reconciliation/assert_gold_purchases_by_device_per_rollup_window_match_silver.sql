-- Flink's gold purchases_by_device_per_rollup_window agrees with silver orders per window of each
-- rollup size and device of the purchase event, recomputed from silver (not from the finer
-- windows): distinct orders and their line totals, over the span gold covers at that size.
-- Returns the windows and devices that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_purchases_by_device_per_rollup_window') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

events as (

    select * from {{ ref('stg_lake__events') }}

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
        purchases.device_type,
        count(distinct orders.order_id) as purchase_count,
        sum(orders.order_total) as revenue

    from orders
    inner join events as purchases
        on
            orders.event_id = purchases.event_id
            and orders.event_date = purchases.event_date
    inner join gold_spans
        on {{ in_rollup_span('orders.event_at', minutes) }}
    group by all
    {% endfor %}

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_minutes', 'window_start', 'device_type'],
        measures=['purchase_count', 'revenue']
    ) }}

)

select * from compared
