-- Gold: purchases and revenue per standardized device type per window.
create table gold_purchases_by_device_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    device_type string,
    purchase_count bigint,
    revenue decimal(12, 2),
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
    'catalog-table' = 'purchases_by_device_per_window'
);
