-- Per-product funnel per tumbling window: views, cart adds and purchased lines. One window is too
-- little evidence to judge a conversion; high_interest_products judges sliding windows.
create temporary view product_conversion_per_window as
select
    window_start,
    window_end,
    product_id,
    view_count,
    cart_count,
    purchase_count,
    case when view_count > 0 then cast(purchase_count as double) / view_count end as conversion_rate
from product_funnel_per_window;
