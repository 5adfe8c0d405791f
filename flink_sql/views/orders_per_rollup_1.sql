-- One row per order and device per first rollup window, cascaded from the window_minutes partial:
-- what the second rollup size counts its distinct orders from.
create temporary view orders_per_rollup_1 as
select
    window_time as rowtime,
    order_id,
    device_type,
    cast(sum(revenue) as decimal(12, 2)) as revenue
from table(
    tumble(table orders_per_window, descriptor(rowtime), interval '${rollup_minutes_1}' minute)
)
group by window_start, window_end, window_time, order_id, device_type;
