with

source as (

    select * from {{ source('lake', 'silver_events') }}

),

renamed as (

    select
        -- ids
        cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id,
        cast(session_id as varchar) as client_session_id,
        cast(product_id as varchar) as product_id,
        cast(order_id as varchar) as order_id,

        -- event
        cast(event_type as varchar) as event_type,
        cast(category as varchar) as category,
        cast(brand as varchar) as brand,
        cast(price as decimal(12, 2)) as price,
        cast(quantity as integer) as quantity,
        cast(item_count as integer) as item_count,
        cast(is_high_value as boolean) as is_high_value,

        -- context
        cast(device_type as varchar) as device_type,
        cast(browser as varchar) as browser,
        cast(page_url as varchar) as page_url,
        cast(url_domain as varchar) as url_domain,
        cast(url_path as varchar) as url_path,
        cast(referrer as varchar) as referrer,

        -- kafka lineage
        cast(kafka_partition as integer) as kafka_partition,
        cast(kafka_offset as bigint) as kafka_offset,

        -- timestamps (event_date comes from the dt= folder, so filters on it prune partitions)
        cast(event_at as timestamp) as event_at,
        cast(event_hour as integer) as event_hour,
        cast(ingested_at as timestamp) as ingested_at,
        cast(dt as date) as event_date

    from source

)

select * from renamed
