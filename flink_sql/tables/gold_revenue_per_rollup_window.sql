-- Gold: orders and revenue per rollup window, both rollup sizes (window_minutes says which).
create table gold_revenue_per_rollup_window (
    window_start timestamp(3),
    window_end timestamp(3),
    window_minutes int,
    order_count bigint,
    revenue decimal(12, 2),
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/revenue_per_rollup_window',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
