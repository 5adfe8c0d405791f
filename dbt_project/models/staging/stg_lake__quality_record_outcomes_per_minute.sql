with

source as (

    select * from {{ source('lake', 'quality_record_outcomes_per_minute') }}

),

renamed as (

    select
        -- minute of Kafka timestamps
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,

        -- key
        cast(outcome as varchar) as outcome,
        cast(reason as varchar) as reason,

        -- measures: part of the minute's count
        cast(record_count as bigint) as record_count,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
