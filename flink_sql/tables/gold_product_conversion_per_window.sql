-- Gold: product funnel per window, flagging high interest with low conversion.
create table gold_product_conversion_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    product_id string,
    view_count bigint,
    cart_count bigint,
    purchase_count bigint,
    conversion_rate double,
    is_high_interest_low_conversion boolean,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/product_conversion_per_window',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
