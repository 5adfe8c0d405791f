-- Gold: items sold and revenue per product category per window.
create table gold_revenue_by_category_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    category string,
    items_sold bigint,
    revenue decimal(12, 2),
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/revenue_by_category_per_window',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
