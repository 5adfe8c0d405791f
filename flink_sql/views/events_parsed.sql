-- Every record typed field by field; unreadable values become null and are judged in events_checked.
create temporary view events_parsed as
select
    raw_payload,
    kafka_partition,
    kafka_offset,
    cast(kafka_timestamp as timestamp(3)) as kafka_timestamp,
    cast(proc_time as timestamp(3)) as ingested_at,
    proc_time,
    event_at,
    -- Exactly one JSON object, in valid UTF-8. The JSON functions read the first value and
    -- ignore what follows it; wrapped as an array element and as a member value, the text parses
    -- both ways only if nothing but whitespace follows the object. Decoding replaced no bytes.
    raw_payload is json object
        and '[' || raw_payload || ']' is json
        and '{"v":' || raw_payload || '}' is json
        and encode(raw_payload, 'UTF-8') = raw_value as is_json_object,
    json_value(raw_payload, '$.event_id') as event_id,
    json_value(raw_payload, '$.event_type') as event_type,
    json_value(raw_payload, '$.event_at') as event_at_text,
    json_value(raw_payload, '$.user_id') as user_id,
    json_value(raw_payload, '$.session_id') as session_id,
    json_value(raw_payload, '$.product_id') as product_id,
    json_value(raw_payload, '$.category') as category,
    json_value(raw_payload, '$.brand') as brand,
    try_cast(json_value(raw_payload, '$.price') as decimal(12, 2)) as price,
    json_query(raw_payload, '$.price' with conditional array wrapper) as price_json,
    json_value(raw_payload, '$.quantity') as quantity_text,
    json_query(raw_payload, '$.quantity' with conditional array wrapper) as quantity_json,
    json_value(raw_payload, '$.order.order_id') as order_id,
    json_query(raw_payload, '$.order.items' returning array<string>) as order_items,
    json_query(raw_payload, '$.order.items[*].product_id' returning array<string>) as item_product_ids,
    try_cast(
        json_query(raw_payload, '$.order.items[*].quantity' returning array<string>) as array<int>
    ) as item_quantities,
    try_cast(
        json_query(raw_payload, '$.order.items[*].unit_price' returning array<string>)
        as array<decimal(12, 2)>
    ) as item_unit_prices,
    json_query(raw_payload, '$.order.items[*].quantity') as item_quantities_json,
    json_query(raw_payload, '$.order.items[*].unit_price') as item_unit_prices_json,
    json_value(raw_payload, '$.device_type') as device_type_raw,
    json_value(raw_payload, '$.browser') as browser_raw,
    json_value(raw_payload, '$.page_url') as page_url,
    json_value(raw_payload, '$.referrer') as referrer
from kafka_events;
