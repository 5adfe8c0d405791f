-- Purchases and revenue per standardized device type per tumbling window, from the per-order
-- partial (one row per order and device: counting rows counts distinct orders).
create temporary view purchases_by_device_per_window as
select
    window_start,
    window_end,
    device_type,
    count(*) as purchase_count,
    cast(sum(revenue) as decimal(12, 2)) as revenue
from table(
    tumble(table orders_per_window, descriptor(rowtime), interval '${window_minutes}' minute)
)
group by window_start, window_end, device_type;
