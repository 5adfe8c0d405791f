with

source as (

    select * from {{ source('lake', 'bronze_events') }}

),

renamed as (

    select
        -- kafka record
        cast(kafka_topic as varchar) as kafka_topic,
        cast(kafka_partition as integer) as kafka_partition,
        cast(kafka_offset as bigint) as kafka_offset,
        cast(kafka_key as varchar) as kafka_key,
        cast(raw_payload as varchar) as raw_payload,

        -- timestamps
        cast(kafka_timestamp as timestamp) as kafka_produced_at,
        cast(ingested_at as timestamp) as ingested_at,
        cast(dt as date) as ingested_date

    from source

)

select * from renamed
