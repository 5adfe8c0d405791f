-- Every record typed field by field; unreadable values become null and are judged in events_checked.
create temporary view events_parsed as
select
    records.raw_payload,
    records.kafka_partition,
    records.kafka_offset,
    cast(records.kafka_timestamp as timestamp(3)) as kafka_timestamp,
    cast(records.proc_time as timestamp(3)) as ingested_at,
    records.proc_time,
    records.event_at,
    -- Valid UTF-8 holding exactly one JSON object and nothing after it (see parse_event).
    records.payload.is_json_object,
    records.payload.event_id,
    records.payload.event_type,
    records.payload.event_at_text,
    records.payload.user_id,
    records.payload.session_id,
    records.payload.product_id,
    records.payload.category,
    records.payload.brand,
    records.payload.price,
    records.payload.quantity,
    records.payload.has_quantity,
    records.payload.order_id,
    records.payload.item_product_ids,
    records.payload.item_categories,
    records.payload.item_brands,
    records.payload.item_quantities,
    records.payload.item_unit_prices,
    records.payload.order_total,
    records.payload.device_type_raw,
    records.payload.browser_raw,
    records.payload.page_url,
    records.payload.referrer
from (
    select *, parse_event(raw_value) as payload
    from kafka_events
) as records;
