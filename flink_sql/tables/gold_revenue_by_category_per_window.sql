-- Gold: items sold and revenue per product category per window.
create table gold_revenue_by_category_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    category string,
    items_sold bigint,
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
    'catalog-table' = 'revenue_by_category_per_window'
);
