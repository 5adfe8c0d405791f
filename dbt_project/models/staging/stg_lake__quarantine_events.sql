with

source as (

    select * from {{ source('lake', 'quarantine_events') }}

),

renamed as (

    select
        -- kafka record
        cast(kafka_partition as integer) as kafka_partition,
        cast(kafka_offset as bigint) as kafka_offset,
        cast(raw_payload as varchar) as raw_payload,

        -- why it was rejected
        cast(reason as varchar) as reason,

        -- timestamps
        cast(kafka_timestamp as timestamp) as kafka_produced_at,
        cast(ingested_at as timestamp) as ingested_at,
        cast(dt as date) as ingested_date

    from source

)

select * from renamed
