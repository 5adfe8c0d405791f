-- Gold: distinct users seen per rollup window (exact), both rollup sizes.
create table gold_active_users_per_rollup_window (
    window_start timestamp(3),
    window_end timestamp(3),
    window_minutes int,
    active_users bigint,
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
    'catalog-table' = 'active_users_per_rollup_window'
);
