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
from (
    select
        window_start,
        window_end,
        product_id,
        count(*) filter (where event_type = 'product_view') as view_count,
        count(*) filter (where event_type = 'add_to_cart') as cart_count,
        count(*) filter (where event_type = 'purchase') as purchase_count
    from table(
        tumble(table product_interactions, descriptor(event_at), interval '${window_minutes}' minute)
    )
    group by window_start, window_end, product_id
);
