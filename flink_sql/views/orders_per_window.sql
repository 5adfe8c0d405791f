-- One row per order (and its purchase's device) per tumbling window with its revenue: the partial
-- the rollup windows count orders and sum revenue from, so an order counts once however many
-- windows its order_id turns up in. The window's time attribute is kept as rowtime.
create temporary view orders_per_window as
select
    window_time as rowtime,
    order_id,
    device_type,
    cast(sum(line_total) as decimal(12, 2)) as revenue
from table(
    tumble(table order_items_flattened, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, window_time, order_id, device_type;
