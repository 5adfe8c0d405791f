-- Gold: product funnel per window (views, cart adds, purchased lines, conversion).
create table gold_product_conversion_per_window (
    window_start timestamp(3),
    window_end timestamp(3),
    product_id string,
    view_count bigint,
    cart_count bigint,
    purchase_count bigint,
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
    'catalog-table' = 'product_conversion_per_window'
);
