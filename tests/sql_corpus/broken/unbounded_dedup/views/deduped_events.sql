-- First occurrence of every event_id.
CREATE TEMPORARY VIEW deduped_events AS
SELECT *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY proc_time ASC) AS row_num
  FROM parsed_events
)
WHERE row_num = 1;
