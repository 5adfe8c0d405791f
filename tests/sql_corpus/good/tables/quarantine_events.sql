-- Records that failed parsing or validation, with the reason.
CREATE TABLE quarantine_events (
  raw_payload STRING,
  reason STRING,
  kafka_partition INT,
  kafka_offset BIGINT,
  ingested_at TIMESTAMP(3),
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/quarantine/events',
  'format' = 'parquet'
);
