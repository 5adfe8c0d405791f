-- Exact distinct users per rollup window, both sizes, counted from silver events directly. Not
-- cascaded from a per-user partial like the orders and products: that partial fires one timer per
-- active user at every window end, which held checkpoints back for 12-15 s (docs/operations.md).
create temporary view active_users_per_rollup_window as
select
    window_start,
    window_end,
    ${rollup_minutes_1} as window_minutes,
    count(distinct user_id) as active_users
from table(
    tumble(table events_enriched, descriptor(event_at), interval '${rollup_minutes_1}' minute)
)
group by window_start, window_end
union all
select
    window_start,
    window_end,
    ${rollup_minutes_2} as window_minutes,
    count(distinct user_id) as active_users
from table(
    tumble(table events_enriched, descriptor(event_at), interval '${rollup_minutes_2}' minute)
)
group by window_start, window_end;
