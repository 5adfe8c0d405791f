-- Gold: how many events of each type arrived per window.
create table gold_events_per_minute (
    window_start timestamp(3),
    window_end timestamp(3),
    event_type string,
    event_count bigint,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/events_per_minute',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
