{%- set date_range = incremental_date_range('session_date') -%}

with

sessionized_events as (

    select * from {{ ref('int_events_sessionized') }}
    where {{ in_date_range('session_date', date_range) }}

),

sessions_aggregated as (

    select
        session_id,
        user_id,
        session_date,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as event_count,
        count(distinct product_id) filter (where event_type = 'product_view')
            as viewed_product_count,
        count(distinct category) filter (where event_type = 'product_view')
            as viewed_category_count,
        count(*) filter (where event_type = 'add_to_cart') as add_to_cart_count,
        count(*) filter (where event_type = 'remove_from_cart') as remove_from_cart_count,
        count(*) filter (where event_type = 'purchase') as purchase_count,
        coalesce(sum(order_total) filter (where event_type = 'purchase'), 0) as revenue,
        -- the device of the session's first event
        arg_min(device_type, (event_at, event_id)) as device_type,
        count(distinct client_session_id) as client_session_count,
        min(client_session_id) as any_client_session_id

    from sessionized_events
    group by session_id, user_id, session_date

),

client_sessions_spread as (

    -- client session ids whose events fall into more than one of our sessions
    select client_session_id

    from sessionized_events
    where client_session_id is not null
    group by client_session_id
    having min(session_id) <> max(session_id)

),

final as (

    select
        sessions_aggregated.session_id,
        sessions_aggregated.user_id,
        sessions_aggregated.session_date,
        sessions_aggregated.started_at,
        sessions_aggregated.ended_at,
        (epoch_ms(sessions_aggregated.ended_at) - epoch_ms(sessions_aggregated.started_at))
        / 1000 as duration_seconds,
        sessions_aggregated.event_count,
        sessions_aggregated.viewed_product_count,
        sessions_aggregated.viewed_category_count,
        sessions_aggregated.add_to_cart_count,
        sessions_aggregated.remove_from_cart_count,
        sessions_aggregated.purchase_count,
        cast(sessions_aggregated.revenue as decimal(18, 2)) as revenue,
        sessions_aggregated.device_type,
        sessions_aggregated.purchase_count > 0 as is_converted,
        sessions_aggregated.client_session_count,
        case
            when sessions_aggregated.client_session_count = 1
                then sessions_aggregated.any_client_session_id
        end as client_session_id,
        (
            sessions_aggregated.client_session_count = 1
            and client_sessions_spread.client_session_id is null
        ) as is_client_session_match

    from sessions_aggregated
    left join client_sessions_spread
        on sessions_aggregated.any_client_session_id = client_sessions_spread.client_session_id

)

select * from final
