-- Users above the bot threshold of events in a one-minute window (humans rarely exceed it).
create temporary view bot_suspects as
select
    window_start,
    window_end,
    user_id,
    count(*) as event_count
from table(tumble(table events_enriched, descriptor(event_at), interval '1' minute))
group by window_start, window_end, user_id
having count(*) > ${bot_events_per_minute};
