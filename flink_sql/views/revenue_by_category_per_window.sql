-- Items sold and revenue per product category per tumbling window.
create temporary view revenue_by_category_per_window as
select
    window_start,
    window_end,
    coalesce(category, 'unknown') as category,
    cast(sum(quantity) as bigint) as items_sold,
    cast(sum(line_total) as decimal(12, 2)) as revenue
from table(
    tumble(table order_items_flattened, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, coalesce(category, 'unknown');
