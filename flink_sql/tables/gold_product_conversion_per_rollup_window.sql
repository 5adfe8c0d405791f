-- Gold: product funnel per rollup window, both rollup sizes.
create table gold_product_conversion_per_rollup_window (
    window_start timestamp(3),
    window_end timestamp(3),
    window_minutes int,
    product_id string,
    view_count bigint,
    cart_count bigint,
    purchase_count bigint,
    conversion_rate double,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/product_conversion_per_rollup_window',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
