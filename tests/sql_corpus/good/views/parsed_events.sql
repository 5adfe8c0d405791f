-- Payload fields pulled out of the raw JSON; nothing is dropped here.
CREATE TEMPORARY VIEW parsed_events AS
SELECT
  raw_payload,
  raw_payload IS JSON AS is_json,
  JSON_VALUE(raw_payload, '$.event_id') AS event_id,
  LOWER(JSON_VALUE(raw_payload, '$.event_type')) AS event_type,
  event_at,
  JSON_EXISTS(raw_payload, '$.event_at') AS has_event_at,
  JSON_VALUE(raw_payload, '$.user_id') AS user_id,
  JSON_VALUE(raw_payload, '$.product_id') AS product_id,
  JSON_VALUE(raw_payload, '$.price' RETURNING DECIMAL(12, 2) NULL ON ERROR) AS price,
  JSON_VALUE(
    raw_payload, '$.quantity' RETURNING INT DEFAULT 1 ON EMPTY DEFAULT -1 ON ERROR
  ) AS quantity,
  JSON_QUERY(raw_payload, '$.context') AS context_json,
  PARSE_URL(JSON_VALUE(raw_payload, '$.page_url'), 'HOST') AS url_domain,
  CASE
    WHEN REGEXP_EXTRACT(LOWER(JSON_VALUE(raw_payload, '$.user_agent')), '(ipad|tablet)', 1) <> ''
      THEN 'tablet'
    WHEN LOWER(JSON_VALUE(raw_payload, '$.user_agent')) LIKE '%mobile%' THEN 'mobile'
    WHEN JSON_VALUE(raw_payload, '$.user_agent') IS NULL THEN 'unknown'
    ELSE 'desktop'
  END AS device_type,
  kafka_partition,
  kafka_offset,
  CAST(kafka_timestamp AS TIMESTAMP(3)) AS ingested_at,
  proc_time
FROM raw_events;
