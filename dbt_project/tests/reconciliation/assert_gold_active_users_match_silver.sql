-- Flink's gold active_users_per_window agrees with the distinct users of silver events per
-- window, over the span gold covers. Returns the windows that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_active_users_per_window') }}

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
        time_bucket(
            to_minutes({{ var('window_minutes') }}), events.event_at, timestamp '1970-01-01'
        ) as window_start,
        count(distinct events.user_id) as active_user_count

    from events
    inner join gold_span
        on
            events.event_at >= gold_span.first_window_start
            and events.event_at
            < gold_span.last_window_start + to_minutes({{ var('window_minutes') }})
    group by all

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_start'],
        measures=['active_user_count']
    ) }}

)

select * from compared
