-- Silver order items: each purchase's line items as rows, numbered in order.
create temporary view order_items_flattened as
select
    purchases.order_id,
    cast(items.line_number as int) as line_number,
    purchases.event_id,
    purchases.user_id,
    purchases.event_at,
    purchases.device_type,
    json_value(items.item, '$.product_id') as product_id,
    json_value(items.item, '$.category') as category,
    json_value(items.item, '$.brand') as brand,
    cast(json_value(items.item, '$.quantity') as int) as quantity,
    cast(json_value(items.item, '$.unit_price') as decimal(12, 2)) as unit_price,
    cast(
        cast(json_value(items.item, '$.quantity') as int)
        * cast(json_value(items.item, '$.unit_price') as decimal(12, 2))
        as decimal(12, 2)
    ) as line_total
from events_enriched as purchases
cross join unnest(purchases.order_items) with ordinality as items (item, line_number)
where purchases.event_type = 'purchase';
