-- A user's sessions as they close: a session window per user over silver events. A gap of
-- exactly session_timeout_minutes starts a new session, as in dbt's sessions mart; Flink merges
-- windows that touch, so the gap is the timeout less one millisecond. A session closes, and its
-- state goes, once the watermark passes its window: its last event plus that gap.
create temporary view sessions as
select
    user_id,
    started_at,
    ended_at,
    -- TIMESTAMPDIFF counts whole seconds, even in MILLISECOND: the milliseconds are added back.
    cast(
        timestampdiff(second, started_at, ended_at) * 1000
        + mod(extract(millisecond from ended_at) - extract(millisecond from started_at) + 60000, 1000)
        as double
    ) / 1000 as duration_seconds,
    closed_at,
    event_count,
    product_view_count,
    viewed_product_count,
    viewed_category_count,
    add_to_cart_count,
    remove_from_cart_count,
    purchase_count,
    revenue,
    device_type,
    purchase_count > 0 as is_converted,
    event_count = 1 as is_bounced
from (
    select
        user_id,
        -- min/max of the window's time attribute trip Flink's planner: they read a plain copy.
        min(cast(event_at as timestamp(3))) as started_at,
        max(cast(event_at as timestamp(3))) as ended_at,
        window_time as closed_at,
        count(*) as event_count,
        count(*) filter (where event_type = 'product_view') as product_view_count,
        count(distinct product_id) filter (where event_type = 'product_view')
            as viewed_product_count,
        count(distinct category) filter (where event_type = 'product_view')
            as viewed_category_count,
        count(*) filter (where event_type = 'add_to_cart') as add_to_cart_count,
        count(*) filter (where event_type = 'remove_from_cart') as remove_from_cart_count,
        count(*) filter (where event_type = 'purchase') as purchase_count,
        -- The order lines' revenue (docs/lake.md), summed from the purchase row's item arrays.
        cast(
            coalesce(
                sum(order_revenue(item_quantities, item_unit_prices))
                    filter (where event_type = 'purchase'),
                0
            ) as decimal(12, 2)
        ) as revenue,
        earliest_value(device_type, event_at, event_id) as device_type
    from table(
        session(
            table events_enriched partition by user_id,
            descriptor(event_at),
            interval '${session_gap_seconds}' second(6, 3)
        )
    )
    group by user_id, window_start, window_end, window_time
);
