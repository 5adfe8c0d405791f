-- Flink's session metrics per window agree with its closed sessions, grouped by the window that
-- holds their closed_at and by device: count, interpolated median and 90th percentile duration,
-- bounce and conversion rates (doubles to 9 decimals), over the windows gold has closed. Returns
-- the windows and devices that disagree.

with

gold_metrics as (

    select
        window_start,
        device_type,
        sessions_closed,
        round(median_duration_seconds, 9) as median_duration_seconds,
        round(p90_duration_seconds, 9) as p90_duration_seconds,
        round(bounce_rate, 9) as bounce_rate,
        round(conversion_rate, 9) as conversion_rate

    from {{ ref('stg_lake__gold_session_metrics_per_window') }}

),

gold_sessions as (

    select * from {{ ref('stg_lake__gold_sessions') }}

),

gold_span as (

    select
        min(window_start) as first_window_start,
        max(window_start) as last_window_start

    from gold_metrics

),

sessions_windowed as (

    select
        time_bucket(
            to_minutes({{ var('window_minutes') }}), gold_sessions.closed_at,
            timestamp '1970-01-01'
        ) as window_start,
        gold_sessions.device_type,
        count(*) as sessions_closed,
        round(quantile_cont(gold_sessions.duration_seconds, 0.5), 9) as median_duration_seconds,
        round(quantile_cont(gold_sessions.duration_seconds, 0.9), 9) as p90_duration_seconds,
        round(avg(cast(gold_sessions.is_bounced as int)), 9) as bounce_rate,
        round(avg(cast(gold_sessions.is_converted as int)), 9) as conversion_rate

    from gold_sessions
    inner join gold_span
        on
            gold_sessions.closed_at >= gold_span.first_window_start
            and gold_sessions.closed_at
            < gold_span.last_window_start + to_minutes({{ var('window_minutes') }})
    group by all

),

compared as (

    {{ rows_that_differ(
        'gold_metrics', 'sessions_windowed',
        keys=['window_start', 'device_type'],
        measures=[
            'sessions_closed', 'median_duration_seconds', 'p90_duration_seconds',
            'bounce_rate', 'conversion_rate',
        ]
    ) }}

)

select * from compared
