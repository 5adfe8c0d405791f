-- Orders and revenue per tumbling window.
CREATE TABLE gold_revenue_per_window (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  order_count BIGINT,
  revenue DECIMAL(12, 2),
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/gold/revenue_per_window',
  'format' = 'parquet'
);
