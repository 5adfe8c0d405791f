-- Gold: orders and revenue per rollup window, both rollup sizes (window_minutes says which).
create table gold_revenue_per_rollup_window (
    window_start timestamp(3),
    window_end timestamp(3),
    window_minutes int,
    order_count bigint,
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
    'catalog-table' = 'revenue_per_rollup_window'
);
