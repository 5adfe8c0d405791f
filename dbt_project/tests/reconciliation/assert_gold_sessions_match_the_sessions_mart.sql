-- Flink's streaming sessions are the sessions mart's, session by session: each gold session is a
-- mart session with the same figures, and each mart session whose timeout ran out by the last
-- session gold has closed (ended_at + timeout <= that closed_at) is in gold; later ones may still
-- be open in the stream. Both read the same silver events, so a late event is in neither. Only
-- the session dates the mart holds are compared. Returns the sessions that differ.

with

gold_sessions as (

    select * from {{ ref('stg_lake__gold_sessions') }}

),

mart_sessions as (

    select * from {{ ref('sessions') }}

),

stream_progress as (

    select max(closed_at) as last_closed_at

    from gold_sessions

),

gold_sessions_built as (

    select gold_sessions.*

    from gold_sessions
    where gold_sessions.session_date in (select mart_sessions.session_date from mart_sessions)

),

mart_sessions_closed as (

    select mart_sessions.*

    from mart_sessions
    cross join stream_progress
    where
        mart_sessions.session_id in (select gold_sessions.session_id from gold_sessions)
        or mart_sessions.ended_at + to_minutes({{ var('session_timeout_minutes') }})
        <= stream_progress.last_closed_at

),

compared as (

    {{ rows_that_differ(
        'gold_sessions_built', 'mart_sessions_closed',
        keys=['session_id'],
        measures=[
            'user_id', 'started_at', 'ended_at', 'duration_seconds', 'event_count',
            'product_view_count', 'viewed_product_count', 'viewed_category_count',
            'add_to_cart_count', 'remove_from_cart_count', 'purchase_count', 'revenue',
            'device_type', 'is_converted', 'is_bounced', 'session_date',
        ]
    ) }}

)

select * from compared
