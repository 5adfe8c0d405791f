-- Valid events that are not behind the watermark.
CREATE TEMPORARY VIEW events_on_time AS
SELECT *
FROM validated_events
WHERE reason IS NULL
  AND (CURRENT_WATERMARK(event_at) IS NULL OR event_at > CURRENT_WATERMARK(event_at));
