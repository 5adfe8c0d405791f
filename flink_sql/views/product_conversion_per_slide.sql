-- Per-product views and purchases over sliding windows: enough evidence to judge a conversion.
create temporary view product_conversion_per_slide as
select
    window_start,
    window_end,
    product_id,
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
group by window_start, window_end, product_id;
