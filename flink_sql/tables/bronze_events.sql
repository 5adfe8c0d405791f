-- Bronze: every Kafka record exactly as received, with its coordinates, by ingestion date.
create table bronze_events (
    raw_payload string,
    kafka_key string,
    kafka_topic string,
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
    'catalog-database' = 'bronze',
    'catalog-table' = 'events'
);
