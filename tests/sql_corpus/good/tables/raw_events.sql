-- Clickstream records as they arrive on Kafka; the value is kept verbatim, event time is read from it.
CREATE TABLE raw_events (
  raw_payload STRING,
  kafka_key STRING,
  kafka_topic STRING METADATA FROM 'topic' VIRTUAL,
  kafka_partition INT METADATA FROM 'partition' VIRTUAL,
  kafka_offset BIGINT METADATA FROM 'offset' VIRTUAL,
  kafka_timestamp TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  event_at AS COALESCE(
    TO_TIMESTAMP(JSON_VALUE(raw_payload, '$.event_at'), 'yyyy-MM-dd''T''HH:mm:ss.SSS'),
    TIMESTAMP '1970-01-01 00:00:00'
  ),
  proc_time AS PROCTIME(),
  WATERMARK FOR event_at AS event_at - INTERVAL '${watermark_delay_seconds}' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka_topic}',
  'properties.bootstrap.servers' = '${kafka_bootstrap_servers}',
  'properties.group.id' = '${kafka_group_id}',
  'scan.startup.mode' = '${kafka_startup_mode}',
  'key.format' = 'raw',
  'key.fields' = 'kafka_key',
  'value.format' = 'raw',
  'value.fields-include' = 'EXCEPT_KEY'
);
