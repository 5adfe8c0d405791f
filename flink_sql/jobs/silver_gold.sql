-- Job "silver_gold": validate, split off late records, deduplicate, enrich, and aggregate windows.
-- One job, so the expensive parse and deduplication run once for silver and every gold table.
set 'pipeline.name' = '${deployment}: silver + gold';
set 'table.local-time-zone' = 'UTC';
-- Iceberg's SinkV2 sink: its operators' uids come from the table's name, so a savepoint maps
-- onto a changed job graph (the v1 sink's generated ids change with the graph).
set 'table.exec.iceberg.use-v2-sink' = 'true';
-- Bounds the deduplication state: an event_id is remembered this long after its first arrival
-- (rate x this many ids at steady state: docs/operations.md, "State").
set 'table.exec.state.ttl' = '${dedup_state_ttl}';
-- Plan each shared view once: without it every sink gets its own copy of parse and dedup.
set 'table.optimizer.reuse-optimize-block-with-digest-enabled' = 'true';
-- Operators hand records on without defensive copies (none of ours mutates its input).
set 'pipeline.object-reuse' = 'true';

execute statement set
begin

-- Records that failed parsing or validation, with the reason.
insert into quarantine_events (
    raw_payload, reason, kafka_partition, kafka_offset, kafka_timestamp, ingested_at, dt
)
select
    raw_payload,
    quarantine_reason as reason,
    kafka_partition,
    kafka_offset,
    kafka_timestamp,
    ingested_at,
    date_format(ingested_at, 'yyyy-MM-dd') as dt
from events_checked
where quarantine_reason is not null;

-- Valid records that arrived behind the watermark.
insert into late_events (
    event_id, event_type, event_at, user_id, raw_payload, kafka_partition, kafka_offset,
    ingested_at, dt
)
select
    event_id,
    event_type,
    event_at,
    user_id,
    raw_payload,
    kafka_partition,
    kafka_offset,
    ingested_at,
    date_format(ingested_at, 'yyyy-MM-dd') as dt
from events_late;

-- Distinct, valid, on-time events.
insert into silver_events (
    event_id, event_type, event_at, user_id, session_id, product_id, category, brand, price,
    quantity, order_id, item_count, device_type, browser, page_url, url_domain, url_path,
    referrer, is_high_value, event_date, event_hour, kafka_partition, kafka_offset, ingested_at,
    dt
)
select
    event_id,
    event_type,
    event_at,
    user_id,
    session_id,
    product_id,
    category,
    brand,
    price,
    quantity,
    order_id,
    item_count,
    device_type,
    browser,
    page_url,
    url_domain,
    url_path,
    referrer,
    is_high_value,
    event_date,
    event_hour,
    kafka_partition,
    kafka_offset,
    ingested_at,
    cast(event_date as string) as dt
from events_enriched;

-- Purchased line items.
insert into silver_order_items (
    order_id, line_number, event_id, user_id, event_at, product_id, category, brand, quantity,
    unit_price, line_total, dt
)
select
    order_id,
    line_number,
    event_id,
    user_id,
    event_at,
    product_id,
    category,
    brand,
    quantity,
    unit_price,
    line_total,
    cast(cast(event_at as date) as string) as dt
from order_items_flattened;

-- Events of each type per minute.
insert into gold_events_per_minute (
    window_start, window_end, event_type, event_count, dt
)
select
    window_start,
    window_end,
    event_type,
    event_count,
    cast(cast(window_start as date) as string) as dt
from events_per_minute;

-- Orders and revenue per window.
insert into gold_revenue_per_window (
    window_start, window_end, order_count, revenue, dt
)
select
    window_start,
    window_end,
    order_count,
    revenue,
    cast(cast(window_start as date) as string) as dt
from revenue_per_window;

-- Items sold and revenue per category per window.
insert into gold_revenue_by_category_per_window (
    window_start, window_end, category, items_sold, revenue, dt
)
select
    window_start,
    window_end,
    category,
    items_sold,
    revenue,
    cast(cast(window_start as date) as string) as dt
from revenue_by_category_per_window;

-- Distinct users per window.
insert into gold_active_users_per_window (
    window_start, window_end, active_users, dt
)
select
    window_start,
    window_end,
    active_users,
    cast(cast(window_start as date) as string) as dt
from active_users_per_window;

-- Purchases and revenue per device type per window.
insert into gold_purchases_by_device_per_window (
    window_start, window_end, device_type, purchase_count, revenue, dt
)
select
    window_start,
    window_end,
    device_type,
    purchase_count,
    revenue,
    cast(cast(window_start as date) as string) as dt
from purchases_by_device_per_window;

-- Users above the bot threshold per minute.
insert into gold_bot_suspects (
    window_start, window_end, user_id, event_count, dt
)
select
    window_start,
    window_end,
    user_id,
    event_count,
    cast(cast(window_start as date) as string) as dt
from bot_suspects;

-- The product funnel per window.
insert into gold_product_conversion_per_window (
    window_start, window_end, product_id, view_count, cart_count, purchase_count,
    conversion_rate, dt
)
select
    window_start,
    window_end,
    product_id,
    view_count,
    cart_count,
    purchase_count,
    conversion_rate,
    cast(cast(window_start as date) as string) as dt
from product_conversion_per_window;

-- Products with many views per sliding window, judged against the rest of the shop.
insert into gold_high_interest_products (
    window_start, window_end, product_id, view_count, purchase_count, conversion_rate,
    baseline_conversion_rate, conversion_upper_bound, confidence, is_high_interest_low_conversion,
    dt
)
select
    window_start,
    window_end,
    product_id,
    view_count,
    purchase_count,
    conversion_rate,
    baseline_conversion_rate,
    conversion_upper_bound,
    confidence,
    is_high_interest_low_conversion,
    cast(cast(window_start as date) as string) as dt
from high_interest_products;

-- Sessions as they close, dated by their first event like dbt's sessions mart.
insert into gold_sessions (
    user_id, started_at, ended_at, duration_seconds, closed_at, event_count, product_view_count,
    viewed_product_count, viewed_category_count, add_to_cart_count, remove_from_cart_count,
    purchase_count, revenue, device_type, is_converted, is_bounced, dt
)
select
    user_id,
    started_at,
    ended_at,
    duration_seconds,
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
    is_converted,
    is_bounced,
    cast(cast(started_at as date) as string) as dt
from sessions;

-- Sessions closed per window and device.
insert into gold_session_metrics_per_window (
    window_start, window_end, device_type, sessions_closed, median_duration_seconds,
    p90_duration_seconds, bounce_rate, conversion_rate, dt
)
select
    window_start,
    window_end,
    device_type,
    sessions_closed,
    median_duration_seconds,
    p90_duration_seconds,
    bounce_rate,
    conversion_rate,
    cast(cast(window_start as date) as string) as dt
from session_metrics_per_window;

-- Records read per minute and what became of them: the live data-quality panel.
insert into quality_record_outcomes_per_minute (
    window_start, window_end, outcome, reason, record_count, dt
)
select
    window_start,
    window_end,
    outcome,
    reason,
    record_count,
    cast(cast(window_start as date) as string) as dt
from record_outcomes_per_minute;

-- Orders and revenue per rollup window (both rollup sizes), cascaded from the windows above.
insert into gold_revenue_per_rollup_window (
    window_start, window_end, window_minutes, order_count, revenue, dt
)
select
    window_start,
    window_end,
    window_minutes,
    order_count,
    revenue,
    cast(cast(window_start as date) as string) as dt
from revenue_per_rollup_window;

-- Distinct users per rollup window.
insert into gold_active_users_per_rollup_window (
    window_start, window_end, window_minutes, active_users, dt
)
select
    window_start,
    window_end,
    window_minutes,
    active_users,
    cast(cast(window_start as date) as string) as dt
from active_users_per_rollup_window;

-- Purchases and revenue per device type per rollup window.
insert into gold_purchases_by_device_per_rollup_window (
    window_start, window_end, window_minutes, device_type, purchase_count, revenue, dt
)
select
    window_start,
    window_end,
    window_minutes,
    device_type,
    purchase_count,
    revenue,
    cast(cast(window_start as date) as string) as dt
from purchases_by_device_per_rollup_window;

-- The product funnel per rollup window.
insert into gold_product_conversion_per_rollup_window (
    window_start, window_end, window_minutes, product_id, view_count, cart_count,
    purchase_count, conversion_rate, dt
)
select
    window_start,
    window_end,
    window_minutes,
    product_id,
    view_count,
    cart_count,
    purchase_count,
    conversion_rate,
    cast(cast(window_start as date) as string) as dt
from product_conversion_per_rollup_window;

end;
