-- Quarantine: records that failed parsing or validation, kept whole with the reason.
create table quarantine_events (
    raw_payload string,
    reason string,
    kafka_partition int,
    kafka_offset bigint,
    kafka_timestamp timestamp(3),
    ingested_at timestamp(3),
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/quarantine/events',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
