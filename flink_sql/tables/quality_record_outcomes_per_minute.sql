-- Data quality: records read per minute and what became of them (bronze, quarantine by reason,
-- late, silver; duplicates are bronze minus the rest), written by the stream. Not gold: it counts
-- records, not silver events. Rows of one minute add up.
create table quality_record_outcomes_per_minute (
    window_start timestamp(3),
    window_end timestamp(3),
    outcome string,
    reason string,
    record_count bigint,
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
    'catalog-database' = 'quality',
    'catalog-table' = 'record_outcomes_per_minute'
);
