-- Parsed events.
CREATE TABLE silver_events (
  event_id STRING,
  user_id STRING,
  event_at TIMESTAMP(3),
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
