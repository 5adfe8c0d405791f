with

source as (

    select * from {{ source('lake', 'gold_product_conversion_per_rollup_window') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,
        cast(window_minutes as integer) as window_minutes,

        -- key
        cast(product_id as varchar) as product_id,

        -- measures
        cast(view_count as bigint) as view_count,
        cast(cart_count as bigint) as cart_count,
        cast(purchase_count as bigint) as purchase_count,
        cast(conversion_rate as double) as conversion_rate,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
