-- Events of each type per one-minute tumbling window.
create temporary view events_per_minute as
select
    window_start,
    window_end,
    event_type,
    count(*) as event_count
from table(tumble(table events_enriched, descriptor(event_at), interval '1' minute))
group by window_start, window_end, event_type;
