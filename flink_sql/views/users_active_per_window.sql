-- One row per user active in a tumbling window: the partial that active users are counted from,
-- carried to the rollup windows so a user active in two windows is counted once in the coarser one.
create temporary view users_active_per_window as
select
    window_start,
    window_end,
    window_time,
    user_id
from table(
    tumble(table events_enriched, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, window_time, user_id;
