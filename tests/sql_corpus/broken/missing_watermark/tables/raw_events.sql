-- Raw events from Kafka: no watermark, so event-time windows never fire.
CREATE TABLE raw_events (
  raw_payload STRING,
  event_at AS TO_TIMESTAMP(JSON_VALUE(raw_payload, '$.event_at')),
  proc_time AS PROCTIME()
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka_topic}',
  'properties.bootstrap.servers' = '${kafka_bootstrap_servers}',
  'format' = 'raw'
);
