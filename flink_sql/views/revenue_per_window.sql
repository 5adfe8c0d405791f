-- Orders and revenue (sum of line totals) per tumbling window, from the per-order partial.
create temporary view revenue_per_window as
select
    window_start,
    window_end,
    count(distinct order_id) as order_count,
    cast(sum(revenue) as decimal(12, 2)) as revenue
from table(
    tumble(table orders_per_window, descriptor(rowtime), interval '${window_minutes}' minute)
)
group by window_start, window_end;
