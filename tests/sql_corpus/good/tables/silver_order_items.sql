-- One line item of a purchase.
CREATE TABLE silver_order_items (
  order_id STRING,
  user_id STRING,
  event_at TIMESTAMP(3),
  product_id STRING,
  quantity INT,
  unit_price DECIMAL(12, 2),
  line_total DECIMAL(12, 2),
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/silver/order_items',
  'format' = 'parquet'
);
