-- Late events: valid records that arrived behind the watermark, kept instead of dropped.
create table late_events (
    event_id string,
    event_type string,
    event_at timestamp(3),
    user_id string,
    raw_payload string,
    kafka_partition int,
    kafka_offset bigint,
    ingested_at timestamp(3),
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/late/events',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
