-- One row per user active in a tumbling window: the partial active users are counted from, carried
-- to the rollup windows so a user active in two windows counts once in the coarser one. Only the
-- window's time attribute is kept (as rowtime): the next TUMBLE adds its own window columns.
create temporary view users_active_per_window as
select
    window_time as rowtime,
    user_id
from table(
    tumble(table events_enriched, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, window_time, user_id;
