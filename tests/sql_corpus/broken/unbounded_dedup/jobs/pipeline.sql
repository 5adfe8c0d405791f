-- Raw -> silver, deduplicated, but without a state TTL.
SET 'pipeline.name' = 'pipeline';

EXECUTE STATEMENT SET
BEGIN
INSERT INTO silver_events
SELECT event_id, user_id, event_at, DATE_FORMAT(event_at, 'yyyy-MM-dd') AS dt
FROM deduped_events;
END;
