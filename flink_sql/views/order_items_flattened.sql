-- Silver order items: each purchase's line items as rows, numbered in order.
create temporary view order_items_flattened as
select
    purchases.order_id,
    cast(items.line_number as int) as line_number,
    purchases.event_id,
    purchases.user_id,
    purchases.event_at,
    purchases.device_type,
    items.product_id,
    -- The item arrays are parallel (parse_event): line n of each is the same line item.
    purchases.item_categories[items.line_number] as category,
    purchases.item_brands[items.line_number] as brand,
    purchases.item_quantities[items.line_number] as quantity,
    purchases.item_unit_prices[items.line_number] as unit_price,
    cast(
        purchases.item_quantities[items.line_number]
        * purchases.item_unit_prices[items.line_number]
        as decimal(12, 2)
    ) as line_total
from events_enriched as purchases
cross join unnest(purchases.item_product_ids) with ordinality as items (product_id, line_number)
where purchases.event_type = 'purchase';
