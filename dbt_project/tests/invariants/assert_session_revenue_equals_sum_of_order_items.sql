-- A session's revenue is the sum of the line totals of the orders its user placed between the
-- session's first and last event. Returns the sessions that disagree.

with

sessions as (

    select * from {{ ref('sessions') }}

),

order_items as (

    select * from {{ ref('stg_lake__order_items') }}

),

session_items_summed as (

    select
        sessions.session_id,
        sum(order_items.line_total) as line_total_sum

    from sessions
    inner join order_items
        on
            sessions.user_id = order_items.user_id
            and order_items.event_at between sessions.started_at and sessions.ended_at
    group by sessions.session_id

),

compared as (

    select
        sessions.session_id,
        sessions.revenue,
        coalesce(session_items_summed.line_total_sum, 0) as line_total_sum

    from sessions
    left join session_items_summed
        on sessions.session_id = session_items_summed.session_id

)

select * from compared
where revenue <> line_total_sum
