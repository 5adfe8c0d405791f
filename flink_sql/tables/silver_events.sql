-- Silver: one row per distinct, valid, on-time event, typed and enriched, by event date.
create table silver_events (
    event_id string,
    event_type string,
    event_at timestamp(3),
    user_id string,
    session_id string,
    product_id string,
    category string,
    brand string,
    price decimal(12, 2),
    quantity int,
    order_id string,
    item_count int,
    device_type string,
    browser string,
    page_url string,
    url_domain string,
    url_path string,
    referrer string,
    is_high_value boolean,
    event_date date,
    event_hour int,
    kafka_partition int,
    kafka_offset bigint,
    ingested_at timestamp(3),
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/silver/events',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
