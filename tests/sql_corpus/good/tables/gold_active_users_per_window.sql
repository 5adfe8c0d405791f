-- Distinct active users over sliding (hopping) windows.
CREATE TABLE gold_active_users_per_window (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  active_users BIGINT,
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/gold/active_users_per_window',
  'format' = 'parquet'
);
