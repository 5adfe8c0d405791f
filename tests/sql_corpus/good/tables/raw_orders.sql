-- Purchase orders with their line items, JSON on Kafka.
CREATE TABLE raw_orders (
  order_id STRING,
  user_id STRING,
  customer ROW<country STRING, segment STRING>,
  items ARRAY<ROW<product_id STRING, quantity INT, unit_price DECIMAL(12, 2)>>,
  attributes MAP<STRING, STRING>,
  `timestamp` TIMESTAMP(3),
  kafka_timestamp TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  WATERMARK FOR `timestamp` AS `timestamp` - INTERVAL '${watermark_delay_seconds}' SECOND,
  PRIMARY KEY (order_id) NOT ENFORCED
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka_orders_topic}',
  'properties.bootstrap.servers' = '${kafka_bootstrap_servers}',
  'properties.group.id' = '${kafka_group_id}',
  'scan.startup.mode' = '${kafka_startup_mode}',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true'
);
