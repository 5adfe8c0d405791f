-- Quarantine: records that failed parsing or validation, kept whole with the reason.
create table quarantine_events (
    raw_payload string,
    reason string,
    kafka_partition int,
    kafka_offset bigint,
    kafka_timestamp timestamp(3),
    ingested_at timestamp(3),
    dt string
) partitioned by (dt) with (
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
