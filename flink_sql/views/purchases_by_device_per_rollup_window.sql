-- Purchases and revenue per device type per rollup window, both sizes: each cascaded from the
-- per-order partial one size finer, so an order_id seen in several of its windows counts once.
create temporary view purchases_by_device_per_rollup_window as
select
    window_start,
    window_end,
    ${rollup_minutes_1} as window_minutes,
    device_type,
    count(distinct order_id) as purchase_count,
    cast(sum(revenue) as decimal(12, 2)) as revenue
from table(
    tumble(
        table orders_per_window,
        descriptor(rowtime),
        interval '${rollup_minutes_1}' minute
    )
)
group by window_start, window_end, device_type
union all
select
    window_start,
    window_end,
    ${rollup_minutes_2} as window_minutes,
    device_type,
    count(distinct order_id) as purchase_count,
    cast(sum(revenue) as decimal(12, 2)) as revenue
from table(
    tumble(
        table orders_per_rollup_1,
        descriptor(rowtime),
        interval '${rollup_minutes_2}' minute
    )
)
group by window_start, window_end, device_type;
