-- Distinct valid events at or behind the watermark: their windows have closed, so they are set
-- aside (the rule is stated once, in docs/events.md).
create temporary view events_late as
select
    event_id,
    event_type,
    event_at,
    user_id,
    late_raw_payload as raw_payload,
    kafka_partition,
    kafka_offset,
    ingested_at
from events_deduplicated
where is_late;
