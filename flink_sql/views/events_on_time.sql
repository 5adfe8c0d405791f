-- Valid records ahead of the watermark (the documented CURRENT_WATERMARK late-data split).
create temporary view events_on_time as
select *
from events_checked
where
    quarantine_reason is null
    and (current_watermark(event_at) is null or event_at > current_watermark(event_at));
