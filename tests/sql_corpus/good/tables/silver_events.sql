-- One distinct, valid, on-time event per event_id.
CREATE TABLE silver_events (
  event_id STRING,
  event_type STRING,
  event_at TIMESTAMP(3),
  user_id STRING,
  product_id STRING,
  price DECIMAL(12, 2),
  quantity INT,
  url_domain STRING,
  device_type STRING,
  kafka_partition INT,
  kafka_offset BIGINT,
  ingested_at TIMESTAMP(3),
  dt STRING
) PARTITIONED BY (dt) WITH (
  'connector' = 'iceberg',
  'catalog-name' = 'lake',
  'catalog-impl' = 'org.apache.iceberg.jdbc.JdbcCatalog',
  'uri' = '${lake_catalog_uri}',
  'jdbc.schema-version' = 'V1',
  'warehouse' = '${lake_root}',
  'io-impl' = '${lake_file_io}',
  's3.path-style-access' = 'true',
  'catalog-database' = 'silver',
  'catalog-table' = 'events'
);
