-- Gold: distinct users seen per rollup window (exact), both rollup sizes.
create table gold_active_users_per_rollup_window (
    window_start timestamp(3),
    window_end timestamp(3),
    window_minutes int,
    active_users bigint,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/active_users_per_rollup_window',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
