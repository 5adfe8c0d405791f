-- Orders and revenue (sum of line totals) per tumbling window.
create temporary view revenue_per_window as
select
    window_start,
    window_end,
    count(distinct order_id) as order_count,
    cast(sum(line_total) as decimal(12, 2)) as revenue
from table(
    tumble(table order_items_flattened, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end;
