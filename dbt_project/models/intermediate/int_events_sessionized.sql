{#-
    Each silver event with the session it belongs to. A user's session ends after
    var('session_timeout_minutes') (30) of inactivity: an event at least that long after the user's
    previous event starts a new session (a gap of exactly 30:00 splits; 29:59 does not). Sessions
    are ours, independent of the client's session id, and dated by their first event.

    Incremental by session_date: the run reads var('session_context_days') of events on both sides
    of its date range, so a session that started the day before or runs past midnight is cut
    correctly, and keeps the events of the sessions that start inside the range.
-#}
{%- set date_range = incremental_date_range('session_date') -%}

with

events as (

    select * from {{ ref('stg_lake__events') }}
    where {{ in_date_range('event_date', date_range, padding_days=var('session_context_days')) }}

),

events_with_previous as (

    select
        event_id,
        user_id,
        client_session_id,
        event_type,
        event_at,
        product_id,
        category,
        quantity,
        order_id,
        order_total,
        device_type,
        lag(event_at) over (
            partition by user_id
            order by event_at, event_id
        ) as previous_event_at

    from events

),

events_flagged as (

    select
        *,
        (
            previous_event_at is null
            or event_at >= previous_event_at
            + to_minutes({{ var('session_timeout_minutes') | int }})
        ) as is_session_start

    from events_with_previous

),

events_sessionized as (

    -- Session starts grow with time, so the latest start so far is the start of the row's session.
    select
        *,
        max(case when is_session_start then event_at end) over (
            partition by user_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_started_at

    from events_flagged

),

final as (

    select
        -- A user starts at most one session at a given instant, so (user, start) is a stable key.
        md5(user_id || '|' || strftime(session_started_at, '%Y-%m-%dT%H:%M:%S.%f'))
            as session_id,
        event_id,
        user_id,
        client_session_id,
        event_type,
        event_at,
        session_started_at,
        cast(session_started_at as date) as session_date,
        is_session_start,
        product_id,
        category,
        quantity,
        order_id,
        order_total,
        device_type

    from events_sessionized
    where {{ in_date_range('cast(session_started_at as date)', date_range) }}

)

select * from final
