-- Records that failed parsing or validation, with the reason.
CREATE TABLE quarantine_events (
  raw_payload STRING,
  reason STRING,
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
  'catalog-database' = 'quarantine',
  'catalog-table' = 'events'
);
