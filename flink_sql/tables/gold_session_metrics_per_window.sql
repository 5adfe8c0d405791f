-- Gold: sessions closed per window and device, with duration percentiles, bounce and conversion.
create table gold_session_metrics_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    device_type string,
    sessions_closed bigint,
    median_duration_seconds double,
    p90_duration_seconds double,
    bounce_rate double,
    conversion_rate double,
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
    'catalog-database' = 'gold',
    'catalog-table' = 'session_metrics_per_window'
);
