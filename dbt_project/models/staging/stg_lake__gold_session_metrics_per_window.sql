with

source as (

    select * from {{ source('lake', 'gold_session_metrics_per_window') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,

        -- key
        cast(device_type as varchar) as device_type,

        -- measures
        cast(sessions_closed as bigint) as sessions_closed,
        cast(median_duration_seconds as double) as median_duration_seconds,
        cast(p90_duration_seconds as double) as p90_duration_seconds,
        cast(bounce_rate as double) as bounce_rate,
        cast(conversion_rate as double) as conversion_rate,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
