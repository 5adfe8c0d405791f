-- The first arrival of each valid event_id (Flink's keep-first-row deduplication), on time or not:
-- a re-sent copy is a duplicate whenever it comes, so silver and late hold an event_id once. State
-- lives for table.exec.state.ttl (dedup_state_ttl; its cost: docs/operations.md, "State").
create temporary view events_deduplicated as
select
    event_id, event_type, event_at, user_id, session_id, product_id, category, brand, price,
    quantity, order_id, item_product_ids, item_categories, item_brands, item_quantities,
    item_unit_prices, device_type_raw, browser_raw, page_url, referrer, kafka_partition,
    kafka_offset, ingested_at, kafka_timestamp, proc_time, is_late, late_raw_payload
from (
    select
        *,
        -- Late: at or behind the watermark when read (docs/events.md); decided before the
        -- shuffle by event_id, which then carries the raw payload only for late_events.
        coalesce(event_at <= current_watermark(event_at), false) as is_late,
        case when event_at <= current_watermark(event_at) then raw_payload end
            as late_raw_payload,
        row_number() over (partition by event_id order by proc_time asc) as row_num
    from events_checked
    where quarantine_reason is null
)
where row_num = 1;
