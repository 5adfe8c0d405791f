-- The product funnel per first rollup window, the window_minutes counts summed: what the second
-- rollup size sums.
create temporary view product_funnel_per_rollup_1 as
select
    window_time as rowtime,
    product_id,
    sum(view_count) as view_count,
    sum(cart_count) as cart_count,
    sum(purchase_count) as purchase_count
from table(
    tumble(
        table product_funnel_per_window,
        descriptor(rowtime),
        interval '${rollup_minutes_1}' minute
    )
)
group by window_start, window_end, window_time, product_id;
