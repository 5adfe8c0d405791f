-- Gold: users whose event rate in a window is above the bot threshold.
create table gold_bot_suspects (
    window_start timestamp(3),
    window_end timestamp(3),
    user_id string,
    event_count bigint,
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
    'catalog-table' = 'bot_suspects'
);
