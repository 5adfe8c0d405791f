-- Product views, cart adds and purchased line items as one stream, for the product funnel.
create temporary view product_interactions as
select product_id, event_type, event_at
from events_enriched
where event_type in ('product_view', 'add_to_cart')
union all
select product_id, 'purchase' as event_type, event_at
from order_items_flattened;
