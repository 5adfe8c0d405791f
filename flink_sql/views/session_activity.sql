-- Sessions' input: every silver event once, plus a purchase's order lines, whose line totals
-- are the order's revenue (the lines are the truth, docs/lake.md).
create temporary view session_activity as
select
    event_id,
    event_type,
    event_at,
    user_id,
    product_id,
    category,
    device_type,
    cast(null as decimal(12, 2)) as line_total
from events_enriched
union all
select
    event_id,
    'order_line' as event_type,
    event_at,
    user_id,
    product_id,
    category,
    device_type,
    line_total
from order_items_flattened;
