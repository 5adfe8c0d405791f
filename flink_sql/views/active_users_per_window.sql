-- Exact distinct users with any event per tumbling window, counted from silver events directly.
create temporary view active_users_per_window as
select
    window_start,
    window_end,
    count(distinct user_id) as active_users
from table(
    tumble(table events_enriched, descriptor(event_at), interval '${window_minutes}' minute)
)
group by window_start, window_end;
