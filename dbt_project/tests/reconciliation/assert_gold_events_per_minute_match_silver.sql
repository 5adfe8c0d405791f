-- Flink's gold events_per_minute agrees with the same count recomputed from silver, for every
-- one-minute window (always one minute, whatever window_minutes is) and event type in the span
-- gold covers (its newest windows may not be emitted yet). Returns the windows that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_events_per_minute') }}

),

events as (

    select * from {{ ref('stg_lake__events') }}

),

gold_span as (

    select
        min(window_start) as first_window_start,
        max(window_start) as last_window_start

    from gold_windows

),

silver_windows as (

    select
        time_bucket(to_minutes(1), events.event_at) as window_start,
        events.event_type,
        count(*) as event_count

    from events
    inner join gold_span
        on
            events.event_at >= gold_span.first_window_start
            and events.event_at
            < gold_span.last_window_start + to_minutes(1)
    group by all

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_start', 'event_type'],
        measures=['event_count']
    ) }}

)

select * from compared
