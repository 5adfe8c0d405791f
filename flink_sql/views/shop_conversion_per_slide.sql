-- The whole shop's views and purchases over the same sliding windows: the baseline a product is
-- compared with.
create temporary view shop_conversion_per_slide as
select
    window_start,
    window_end,
    count(*) filter (where event_type = 'product_view') as view_count,
    count(*) filter (where event_type = 'purchase') as purchase_count
from table(
    hop(
        table product_interactions,
        descriptor(event_at),
        interval '${hilc_slide_minutes}' minute,
        interval '${hilc_window_minutes}' minute
    )
)
group by window_start, window_end;
