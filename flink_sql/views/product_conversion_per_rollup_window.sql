-- The product funnel per rollup window, both sizes: each summed from the funnel's partial one size
-- finer; conversion as in product_conversion_per_window.
create temporary view product_conversion_per_rollup_window as
select
    window_start,
    window_end,
    window_minutes,
    product_id,
    view_count,
    cart_count,
    purchase_count,
    case when view_count > 0 then cast(purchase_count as double) / view_count end as conversion_rate
from (
    select
        window_start,
        window_end,
        ${rollup_minutes_1} as window_minutes,
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
    group by window_start, window_end, product_id
    union all
    select
        window_start,
        window_end,
        ${rollup_minutes_2} as window_minutes,
        product_id,
        sum(view_count) as view_count,
        sum(cart_count) as cart_count,
        sum(purchase_count) as purchase_count
    from table(
        tumble(
            table product_funnel_per_rollup_1,
            descriptor(rowtime),
            interval '${rollup_minutes_2}' minute
        )
    )
    group by window_start, window_end, product_id
);
