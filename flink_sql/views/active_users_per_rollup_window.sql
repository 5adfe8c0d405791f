-- Exact distinct users per rollup window, both sizes: each cascaded from the per-user partial one
-- size finer, so a user active in several of its windows counts once.
create temporary view active_users_per_rollup_window as
select
    window_start,
    window_end,
    ${rollup_minutes_1} as window_minutes,
    count(distinct user_id) as active_users
from table(
    tumble(
        table users_active_per_window,
        descriptor(rowtime),
        interval '${rollup_minutes_1}' minute
    )
)
group by window_start, window_end
union all
select
    window_start,
    window_end,
    ${rollup_minutes_2} as window_minutes,
    count(distinct user_id) as active_users
from table(
    tumble(
        table users_active_per_rollup_1,
        descriptor(rowtime),
        interval '${rollup_minutes_2}' minute
    )
)
group by window_start, window_end;
