with

source as (

    select * from {{ source('lake', 'late_events') }}

),

renamed as (

    select
        -- ids
        cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id,

        -- event
        cast(event_type as varchar) as event_type,
        cast(raw_payload as varchar) as raw_payload,

        -- kafka lineage
        cast(kafka_partition as integer) as kafka_partition,
        cast(kafka_offset as bigint) as kafka_offset,

        -- timestamps
        cast(event_at as timestamp) as event_at,
        cast(ingested_at as timestamp) as ingested_at,
        cast(dt as date) as ingested_date

    from source

)

select * from renamed
