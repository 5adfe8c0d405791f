with

source as (

    select * from {{ source('lake', 'gold_events_per_minute') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,

        -- key
        cast(event_type as varchar) as event_type,

        -- measures
        cast(event_count as bigint) as event_count,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
