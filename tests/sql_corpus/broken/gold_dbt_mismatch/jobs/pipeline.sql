-- Raw -> silver and events per minute.
SET 'pipeline.name' = 'pipeline';

EXECUTE STATEMENT SET
BEGIN
INSERT INTO silver_events
SELECT event_id, user_id, event_at, DATE_FORMAT(event_at, 'yyyy-MM-dd') AS dt
FROM parsed_events;
INSERT INTO gold_events_per_minute
SELECT window_start, window_end, COUNT(*) AS event_count, DATE_FORMAT(window_start, 'yyyy-MM-dd') AS dt
FROM TABLE(TUMBLE(TABLE parsed_events, DESCRIPTOR(event_at), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;
END;
