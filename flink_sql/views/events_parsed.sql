-- Every record typed field by field; unreadable values become null and are judged in events_checked.
create temporary view events_parsed as
select
    kafka_events.raw_payload,
    kafka_events.kafka_partition,
    kafka_events.kafka_offset,
    cast(kafka_events.kafka_timestamp as timestamp(3)) as kafka_timestamp,
    cast(kafka_events.proc_time as timestamp(3)) as ingested_at,
    kafka_events.proc_time,
    kafka_events.event_at,
    -- Valid UTF-8 holding exactly one JSON object and nothing after it (see parse_event).
    payload.is_json_object,
    payload.event_id,
    payload.event_type,
    payload.event_at_text,
    payload.user_id,
    payload.session_id,
    payload.product_id,
    payload.category,
    payload.brand,
    payload.price,
    payload.quantity,
    payload.has_quantity,
    payload.order_id,
    payload.item_product_ids,
    payload.item_categories,
    payload.item_brands,
    payload.item_quantities,
    payload.item_unit_prices,
    payload.device_type_raw,
    payload.browser_raw,
    payload.page_url,
    payload.referrer
from kafka_events
-- One row per record, whatever the payload: a left join, so nothing can fall out here.
left join lateral table(parse_event(kafka_events.raw_value)) as payload on true;
