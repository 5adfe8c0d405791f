-- Parsed events.
CREATE TABLE silver_events (
  event_id STRING,
  user_id STRING,
  event_at TIMESTAMP(3),
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/silver/events',
  'format' = 'parquet'
);
