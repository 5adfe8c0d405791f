-- Late events: valid records that arrived behind the watermark, kept instead of dropped.
create table late_events (
    event_id string,
    event_type string,
    event_at timestamp(3),
    user_id string,
    raw_payload string,
    kafka_partition int,
    kafka_offset bigint,
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
    'catalog-database' = 'late',
    'catalog-table' = 'events'
);
