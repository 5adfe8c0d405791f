-- Silver order items: one row per line item of a purchase, flattened from its order.
create table silver_order_items (
    order_id string,
    line_number int,
    event_id string,
    user_id string,
    event_at timestamp(3),
    product_id string,
    category string,
    brand string,
    quantity int,
    unit_price decimal(12, 2),
    line_total decimal(12, 2),
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
    'catalog-database' = 'silver',
    'catalog-table' = 'order_items'
);
