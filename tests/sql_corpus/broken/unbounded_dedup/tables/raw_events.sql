-- Raw events from Kafka.
CREATE TABLE raw_events (
  raw_payload STRING,
  event_at AS TO_TIMESTAMP(JSON_VALUE(raw_payload, '$.event_at')),
  proc_time AS PROCTIME(),
  WATERMARK FOR event_at AS event_at - INTERVAL '${watermark_delay_seconds}' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka_topic}',
  'properties.bootstrap.servers' = '${kafka_bootstrap_servers}',
  'format' = 'raw'
);
