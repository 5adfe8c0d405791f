-- Per-product funnel per tumbling window: views, cart adds and purchased lines, from the funnel's
-- partial (the same window again: it names the window). One window is too little evidence to
-- judge a conversion; high_interest_products judges sliding windows.
create temporary view product_conversion_per_window as
select
    window_start,
    window_end,
    product_id,
    view_count,
    cart_count,
    purchase_count,
    case when view_count > 0 then cast(purchase_count as double) / view_count end as conversion_rate
from (
    select
        window_start,
        window_end,
        product_id,
        sum(view_count) as view_count,
        sum(cart_count) as cart_count,
        sum(purchase_count) as purchase_count
    from table(
        tumble(
            table product_funnel_per_window,
            descriptor(rowtime),
            interval '${window_minutes}' minute
        )
    )
    group by window_start, window_end, product_id
);
