-- Bronze: every Kafka record exactly as received, with its coordinates, by ingestion date.
create table bronze_events (
    raw_payload string,
    kafka_key string,
    kafka_topic string,
    kafka_partition int,
    kafka_offset bigint,
    kafka_timestamp timestamp(3),
    ingested_at timestamp(3),
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/bronze/events',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
