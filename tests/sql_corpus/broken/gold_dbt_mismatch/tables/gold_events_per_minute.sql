-- Events per tumbling minute.
CREATE TABLE gold_events_per_minute (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  event_count BIGINT,
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/gold/events_per_minute',
  'format' = 'parquet'
);
