-- Gold: products with many views in a sliding window, their conversion against the shop's, and
-- whether it is significantly low (the high-interest, low-conversion flag).
create table gold_high_interest_products (
    window_start timestamp(3),
    window_end timestamp(3),
    product_id string,
    view_count bigint,
    purchase_count bigint,
    conversion_rate double,
    baseline_conversion_rate double,
    conversion_upper_bound double,
    confidence double,
    is_high_interest_low_conversion boolean,
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
    'catalog-table' = 'high_interest_products'
);
