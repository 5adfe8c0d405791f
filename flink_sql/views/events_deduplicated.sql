-- The first arrival of each event_id (Flink's keep-first-row deduplication); re-sent copies are
-- dropped here and counted by the accounting identity. State lives for table.exec.state.ttl.
create temporary view events_deduplicated as
select
    event_id, event_type, event_at, user_id, session_id, product_id, category, brand, price,
    quantity, order_id, item_product_ids, item_categories, item_brands, item_quantities,
    item_unit_prices, device_type_raw, browser_raw, page_url, referrer, kafka_partition,
    kafka_offset, ingested_at
from (
    select
        *,
        row_number() over (partition by event_id order by proc_time asc) as row_num
    from events_on_time
)
where row_num = 1;
