-- Flink's gold active_users_per_rollup_window agrees with the distinct users of silver events per
-- window of each rollup size, recomputed from silver (not from the finer windows), over the span
-- gold covers at that size. Returns the windows that disagree.

with

gold_windows as (

    select * from {{ ref('stg_lake__gold_active_users_per_rollup_window') }}

),

events as (

    select * from {{ ref('stg_lake__events') }}

),

gold_spans as (

    {{ rollup_spans('gold_windows') }}

),

silver_windows as (

    {% for minutes in rollup_minutes() %}
    {{ "union all" if not loop.first }}
    select
        {{ minutes }} as window_minutes,
        time_bucket(
            to_minutes({{ minutes }}), events.event_at, timestamp '1970-01-01'
        ) as window_start,
        count(distinct events.user_id) as active_user_count

    from events
    inner join gold_spans
        on {{ in_rollup_span('events.event_at', minutes) }}
    group by all
    {% endfor %}

),

compared as (

    {{ rows_that_differ(
        'gold_windows', 'silver_windows',
        keys=['window_minutes', 'window_start'],
        measures=['active_user_count']
    ) }}

)

select * from compared
