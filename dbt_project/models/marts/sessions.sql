{#-
    Sessionization. A user's session ends after var('session_timeout_minutes') (30) of inactivity:
    an event at least that long after the user's previous event starts a new session — a gap of
    exactly 30:00 splits, 29:59 does not. Sessions are ours, independent of the client's session
    id (compared below), and dated by their first event.

    Incremental by session_date: a run reads var('session_context_days') of events on each side of
    its date range, so a session that started the evening before is recognised (and left alone) and
    one running past midnight is kept whole, then keeps the sessions that start inside the range.

    Built in one model rather than an event-level intermediate table: writing a row per event costs
    more than the whole sessionization (see bench/bench_dbt.py).
-#}
{%- set date_range = incremental_date_range('session_date') -%}

with

events as (

    select * from {{ ref('stg_lake__events') }}
    where
        {{ in_date_range(
            'event_date',
            date_range,
            days_before=var('session_context_days'),
            days_after=var('session_context_days'),
        ) }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}
    where
        {{ in_date_range(
            'event_date',
            date_range,
            days_before=var('session_context_days'),
            days_after=var('session_context_days'),
        ) }}

),

events_with_previous as (

    select
        events.event_id,
        events.user_id,
        events.client_session_id,
        events.event_type,
        events.event_at,
        events.product_id,
        events.category,
        orders.order_total,
        events.device_type,
        lag(events.event_at) over (
            partition by events.user_id
            order by events.event_at
        ) as previous_event_at

    from events
    left join orders
        on
            events.event_id = orders.event_id
            and events.event_date = orders.event_date

),

events_sessionized as (

    -- Session starts only grow with time, so the latest start so far is the row's session start.
    select
        *,
        max(
            case
                when
                    previous_event_at is null
                    or event_at >= previous_event_at
                    + to_minutes({{ var('session_timeout_minutes') }})
                    then event_at
            end
        ) over (
            partition by user_id
            order by event_at
            rows between unbounded preceding and current row
        ) as session_started_at

    from events_with_previous

),

sessions_aggregated as materialized (

    -- Distinct counts go through list_distinct(list(...)): on millions of small groups it is
    -- several times cheaper than count(distinct ...). list_distinct also drops nulls.
    select
        user_id,
        session_started_at,
        max(event_at) as session_ended_at,
        count(*) as event_count,
        len(list_distinct(list(product_id) filter (where event_type = 'product_view')))
            as viewed_product_count,
        len(list_distinct(list(category) filter (where event_type = 'product_view')))
            as viewed_category_count,
        count(*) filter (where event_type = 'product_view') as product_view_count,
        count(*) filter (where event_type = 'add_to_cart') as add_to_cart_count,
        count(*) filter (where event_type = 'remove_from_cart') as remove_from_cart_count,
        count(*) filter (where event_type = 'purchase') as purchase_count,
        coalesce(sum(order_total), 0) as revenue,
        -- the device of the session's first event
        arg_min(device_type, (event_at, event_id)) as device_type,
        list_distinct(list(client_session_id)) as client_session_ids

    from events_sessionized
    group by user_id, session_started_at

),

client_sessions_spread as (

    -- client session ids that occur in more than one of our sessions
    select client_session_id

    from (
        select unnest(client_session_ids) as client_session_id
        from sessions_aggregated
    ) as client_sessions
    group by client_session_id
    having count(*) > 1

),

final as (

    select
        -- A user starts at most one session at a given instant: (user, start) is a stable key.
        {{ session_key(
            'sessions_aggregated.user_id', 'sessions_aggregated.session_started_at'
        ) }} as session_id,
        sessions_aggregated.user_id,
        cast(sessions_aggregated.session_started_at as date) as session_date,
        sessions_aggregated.session_started_at as started_at,
        sessions_aggregated.session_ended_at as ended_at,
        (
            epoch_ms(sessions_aggregated.session_ended_at)
            - epoch_ms(sessions_aggregated.session_started_at)
        ) / 1000 as duration_seconds,
        sessions_aggregated.event_count,
        sessions_aggregated.product_view_count,
        coalesce(sessions_aggregated.viewed_product_count, 0) as viewed_product_count,
        coalesce(sessions_aggregated.viewed_category_count, 0) as viewed_category_count,
        sessions_aggregated.add_to_cart_count,
        sessions_aggregated.remove_from_cart_count,
        sessions_aggregated.purchase_count,
        cast(sessions_aggregated.revenue as decimal(18, 2)) as revenue,
        sessions_aggregated.device_type,
        sessions_aggregated.purchase_count > 0 as is_converted,
        sessions_aggregated.event_count = 1 as is_bounced,
        len(sessions_aggregated.client_session_ids) as client_session_count,
        case
            when len(sessions_aggregated.client_session_ids) = 1
                then sessions_aggregated.client_session_ids[1]
        end as client_session_id,
        (
            len(sessions_aggregated.client_session_ids) = 1
            and client_sessions_spread.client_session_id is null
        ) as is_client_session_match

    from sessions_aggregated
    left join client_sessions_spread
        on sessions_aggregated.client_session_ids[1] = client_sessions_spread.client_session_id
    where {{ in_date_range('cast(sessions_aggregated.session_started_at as date)', date_range) }}

)

select * from final
