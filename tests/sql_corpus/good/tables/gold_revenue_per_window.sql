-- Orders and revenue per tumbling window.
CREATE TABLE gold_revenue_per_window (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  order_count BIGINT,
  revenue DECIMAL(12, 2),
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
  'catalog-table' = 'revenue_per_window'
);
