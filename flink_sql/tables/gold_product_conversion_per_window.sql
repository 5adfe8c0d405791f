-- Gold: product funnel per window (views, cart adds, purchased lines, conversion).
create table gold_product_conversion_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    product_id string,
    view_count bigint,
    cart_count bigint,
    purchase_count bigint,
    conversion_rate double,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/product_conversion_per_window',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
