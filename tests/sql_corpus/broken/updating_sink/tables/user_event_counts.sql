-- Events per user (a running count: every event updates a row).
CREATE TABLE user_event_counts (
  user_id STRING,
  event_count BIGINT,
  last_event_at TIMESTAMP(3),
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/silver/user_event_counts',
  'format' = 'parquet'
);
