-- Job "silver_gold": validate, split off late records, deduplicate, enrich, and aggregate windows.
-- One job, so the expensive parse and deduplication run once for silver and every gold table.
set 'pipeline.name' = '${deployment}: silver + gold';
set 'table.local-time-zone' = 'UTC';
-- Bounds the deduplication state: an event_id is remembered this long after it was last seen.
set 'table.exec.state.ttl' = '${dedup_state_ttl}';
-- Plan each shared view once: without it every sink gets its own copy of parse and dedup.
set 'table.optimizer.reuse-optimize-block-with-digest-enabled' = 'true';
-- Operators hand records on without defensive copies (none of ours mutates its input).
set 'pipeline.object-reuse' = 'true';

execute statement set
begin

-- Records that failed parsing or validation, with the reason.
insert into quarantine_events
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
insert into late_events
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
insert into silver_events
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
insert into silver_order_items
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

insert into gold_events_per_minute
select *, cast(cast(window_start as date) as string) as dt from events_per_minute;

insert into gold_revenue_per_window
select *, cast(cast(window_start as date) as string) as dt from revenue_per_window;

insert into gold_revenue_by_category_per_window
select *, cast(cast(window_start as date) as string) as dt from revenue_by_category_per_window;

insert into gold_active_users_per_window
select *, cast(cast(window_start as date) as string) as dt from active_users_per_window;

insert into gold_purchases_by_device_per_window
select *, cast(cast(window_start as date) as string) as dt from purchases_by_device_per_window;

insert into gold_bot_suspects
select *, cast(cast(window_start as date) as string) as dt from bot_suspects;

insert into gold_product_conversion_per_window
select *, cast(cast(window_start as date) as string) as dt from product_conversion_per_window;

end;
