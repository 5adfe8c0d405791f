-- The event topic as received: the payload is kept as raw text and parsed in SQL, so a malformed
-- record is quarantined instead of dropped by a format's ignore-parse-errors.
create table kafka_events (
    -- The record's key and value as bytes: a STRING column would keep invalid UTF-8 as is, and
    -- Parquet readers (DuckDB, dbt) refuse such a file. Decoded below, bad bytes become U+FFFD.
    kafka_key_bytes bytes,
    raw_value bytes,
    kafka_key as decode(kafka_key_bytes, 'UTF-8'),
    raw_payload as decode(raw_value, 'UTF-8'),
    kafka_topic string metadata from 'topic' virtual,
    kafka_partition int metadata from 'partition' virtual,
    kafka_offset bigint metadata from 'offset' virtual,
    kafka_timestamp timestamp_ltz(3) metadata from 'timestamp' virtual,
    proc_time as proctime(),
    -- Event time from the payload (event_time), if no later than the far-future cut-off. A
    -- missing, unreadable or far-future value becomes the epoch, which never advances the
    -- watermark; such records are quarantined downstream.
    event_at as coalesce(
        event_time(
            raw_value,
            cast(kafka_timestamp as timestamp(3)) + interval '${max_future_minutes}' minute
        ),
        timestamp '1970-01-01 00:00:00'
    ),
    -- Shoppers' devices buffer and retry: events may arrive this much out of order and still count.
    watermark for event_at as event_at - interval '${watermark_delay_seconds}' second
) with (
    'connector' = 'kafka',
    'topic' = '${kafka_topic}',
    'properties.bootstrap.servers' = '${kafka_bootstrap_servers}',
    'properties.group.id' = '${kafka_group_id}',
    'properties.auto.offset.reset' = 'earliest',
    -- Small fetches interleave the partitions of a backlog, so each one holds the watermark early.
    'properties.max.partition.fetch.bytes' = '262144',
    -- At a steady rate, wait up to 50 ms for 64 KB instead of fetching every few records: far
    -- fewer requests for the broker and the source (files commit every 10 s anyway).
    'properties.fetch.min.bytes' = '65536',
    'properties.fetch.max.wait.ms' = '50',
    'scan.startup.mode' = 'group-offsets',
    'scan.bounded.mode' = '${kafka_bounded_mode}',
    'scan.watermark.idle-timeout' = '${source_idle_timeout}',
    'scan.watermark.emit.strategy' = '${watermark_emit_strategy}',
    -- Partitions read from a backlog advance together, so "late" means late, not "read last".
    'scan.watermark.alignment.group' = '${deployment}-events',
    'scan.watermark.alignment.max-drift' = '1 s',
    'key.format' = 'raw',
    'key.fields' = 'kafka_key_bytes',
    'value.format' = 'raw',
    'value.fields-include' = 'EXCEPT_KEY'
);
