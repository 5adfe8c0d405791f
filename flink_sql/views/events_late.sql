-- Valid records at or behind the watermark: their windows have closed, so they are set aside.
create temporary view events_late as
select *
from events_checked
where quarantine_reason is null and event_at <= current_watermark(event_at);
