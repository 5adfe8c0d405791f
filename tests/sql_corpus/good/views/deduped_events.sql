-- First occurrence of every event_id (processing-time order); later duplicates are dropped.
CREATE TEMPORARY VIEW deduped_events AS
SELECT *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY proc_time ASC) AS row_num
  FROM events_on_time
)
WHERE row_num = 1;
