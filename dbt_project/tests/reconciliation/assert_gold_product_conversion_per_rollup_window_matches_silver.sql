-- Flink's gold product_conversion_per_rollup_window agrees with silver per window of each rollup
-- size and product, recomputed from silver (not from the finer windows): product views and cart
-- adds from the events, purchased lines from the order items, over the span gold covers at that
-- size. Returns the windows and products that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_product_conversion_per_rollup_window') }}

),

events as (

    select * from {{ ref('stg_lake__events') }}

),

order_items as (

    select * from {{ ref('stg_lake__order_items') }}

),

interactions as (

    select
        event_at,
        product_id,
        event_type
    from events
    where event_type in ('product_view', 'add_to_cart')

    union all

    select
        event_at,
        product_id,
        'purchase' as event_type
    from order_items

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
            to_minutes({{ minutes }}), interactions.event_at, timestamp '1970-01-01'
        ) as window_start,
        interactions.product_id,
        count(*) filter (where interactions.event_type = 'product_view') as view_count,
        count(*) filter (where interactions.event_type = 'add_to_cart') as cart_count,
        count(*) filter (where interactions.event_type = 'purchase') as purchase_count

    from interactions
    inner join gold_spans
        on {{ in_rollup_span('interactions.event_at', minutes) }}
    group by all
    {% endfor %}

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_minutes', 'window_start', 'product_id'],
        measures=['view_count', 'cart_count', 'purchase_count']
    ) }}

)

select * from compared
