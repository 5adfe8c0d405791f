-- Distinct valid events ahead of the watermark when read: the ones silver and gold count.
create temporary view events_on_time as
select
    event_id, event_type, event_at, user_id, session_id, product_id, category, brand, price,
    quantity, order_id, item_product_ids, item_categories, item_brands, item_quantities,
    item_unit_prices, device_type_raw, browser_raw, page_url, referrer, kafka_partition,
    kafka_offset, ingested_at
from events_deduplicated
where not is_late;
