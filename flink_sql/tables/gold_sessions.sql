-- Gold: one row per closed session (dbt's sessions mart has the same sessions, reconciled).
create table gold_sessions (
    user_id string,
    started_at timestamp(3),
    ended_at timestamp(3),
    duration_seconds double,
    closed_at timestamp(3),
    event_count bigint,
    product_view_count bigint,
    viewed_product_count bigint,
    viewed_category_count bigint,
    add_to_cart_count bigint,
    remove_from_cart_count bigint,
    purchase_count bigint,
    revenue decimal(12, 2),
    device_type string,
    is_converted boolean,
    is_bounced boolean,
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
    'catalog-table' = 'sessions'
);
