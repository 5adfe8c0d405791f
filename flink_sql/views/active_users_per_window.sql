-- Exact distinct users with any event per tumbling window, counted from the per-user partial (the
-- same window again: a plain GROUP BY over the partial would be an updating aggregation).
create temporary view active_users_per_window as
select
    window_start,
    window_end,
    count(*) as active_users
from table(
    tumble(
        table users_active_per_window,
        descriptor(rowtime),
        interval '${window_minutes}' minute
    )
)
group by window_start, window_end;
