-- Purchases and revenue per standardized device type per tumbling window.
create temporary view purchases_by_device_per_window as
select
    window_start,
    window_end,
    device_type,
    count(distinct order_id) as purchase_count,
    cast(sum(line_total) as decimal(12, 2)) as revenue
from table(
    tumble(table order_items_flattened, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, device_type;
