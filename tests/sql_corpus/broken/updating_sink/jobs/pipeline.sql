-- Raw -> silver, plus a running count per user.
SET 'pipeline.name' = 'pipeline';

EXECUTE STATEMENT SET
BEGIN
INSERT INTO silver_events
SELECT event_id, user_id, event_at, DATE_FORMAT(event_at, 'yyyy-MM-dd') AS dt
FROM parsed_events;
-- a regular GROUP BY emits an update per event: a filesystem sink cannot take it
INSERT INTO user_event_counts
SELECT
  user_id, COUNT(*) AS event_count, MAX(event_at) AS last_event_at,
  MAX(DATE_FORMAT(event_at, 'yyyy-MM-dd')) AS dt
FROM parsed_events
GROUP BY user_id;
END;
