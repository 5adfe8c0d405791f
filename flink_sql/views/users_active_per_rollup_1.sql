-- One row per user active in a first rollup window, cascaded from the window_minutes partial:
-- what the second rollup size counts its distinct users from.
create temporary view users_active_per_rollup_1 as
select
    window_time as rowtime,
    user_id
from table(
    tumble(
        table users_active_per_window,
        descriptor(rowtime),
        interval '${rollup_minutes_1}' minute
    )
)
group by window_start, window_end, window_time, user_id;
