-- Payload fields.
CREATE TEMPORARY VIEW parsed_events AS
SELECT
  JSON_VALUE(raw_payload, '$.event_id') AS event_id,
  JSON_VALUE(raw_payload, '$.user_id') AS user_id
  event_at,
  proc_time
FROM raw_events;
