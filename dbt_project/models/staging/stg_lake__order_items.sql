with

source as (

    select * from {{ source('lake', 'silver_order_items') }}

),

renamed as (

    select
        -- ids
        cast(order_id as varchar) as order_id,
        cast(line_number as integer) as line_number,
        cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id,
        cast(product_id as varchar) as product_id,

        -- product
        cast(category as varchar) as category,
        cast(brand as varchar) as brand,

        -- amounts
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(12, 2)) as unit_price,
        cast(line_total as decimal(12, 2)) as line_total,

        -- timestamps (event_date comes from the dt= folder, so filters on it prune partitions)
        cast(event_at as timestamp) as event_at,
        cast(dt as date) as event_date

    from source

)

select * from renamed
