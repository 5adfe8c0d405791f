-- Raw events -> silver / quarantine, plus gold aggregates over event-time windows.
SET 'pipeline.name' = 'events-pipeline';
SET 'table.exec.state.ttl' = '${dedup_state_ttl}';
SET 'execution.checkpointing.interval' = '${checkpoint_interval}';

EXECUTE STATEMENT SET
BEGIN
-- silver: one row per distinct on-time event
INSERT INTO silver_events
SELECT
  event_id, event_type, event_at, user_id, product_id, price, quantity, url_domain, device_type,
  kafka_partition, kafka_offset, ingested_at,
  DATE_FORMAT(event_at, 'yyyy-MM-dd') AS dt
FROM deduped_events;
-- quarantine: everything that failed validation
INSERT INTO quarantine_events
SELECT
  raw_payload, reason, kafka_partition, kafka_offset, ingested_at,
  DATE_FORMAT(ingested_at, 'yyyy-MM-dd') AS dt
FROM validated_events
WHERE reason IS NOT NULL;
-- gold: events per type and minute
INSERT INTO gold_events_per_minute
SELECT
  window_start, window_end, event_type,
  COUNT(*) AS event_count,
  DATE_FORMAT(window_start, 'yyyy-MM-dd') AS dt
FROM TABLE(TUMBLE(TABLE events_on_time, DESCRIPTOR(event_at), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, event_type;
-- gold: distinct users over 5-minute windows sliding by one minute
INSERT INTO gold_active_users_per_window
SELECT
  window_start, window_end,
  COUNT(DISTINCT user_id) AS active_users,
  DATE_FORMAT(window_start, 'yyyy-MM-dd') AS dt
FROM TABLE(HOP(TABLE events_on_time, DESCRIPTOR(event_at), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))
GROUP BY window_start, window_end;
END;
