-- Events per type and tumbling minute.
CREATE TABLE gold_events_per_minute (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  event_type STRING,
  event_count BIGINT,
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
  'catalog-database' = 'gold',
  'catalog-table' = 'events_per_minute'
);
