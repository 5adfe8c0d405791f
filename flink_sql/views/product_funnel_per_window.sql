-- Per-product views, cart adds and purchased lines per tumbling window: counts that add up, so the
-- coarser windows sum them. The window's time attribute is kept as rowtime.
create temporary view product_funnel_per_window as
select
    window_time as rowtime,
    product_id,
    count(*) filter (where event_type = 'product_view') as view_count,
    count(*) filter (where event_type = 'add_to_cart') as cart_count,
    count(*) filter (where event_type = 'purchase') as purchase_count
from table(
    tumble(table product_interactions, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, window_time, product_id;
