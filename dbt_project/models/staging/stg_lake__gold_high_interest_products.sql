with

source as (

    select * from {{ source('lake', 'gold_high_interest_products') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,

        -- key
        cast(product_id as varchar) as product_id,

        -- measures
        cast(view_count as bigint) as view_count,
        cast(purchase_count as bigint) as purchase_count,
        cast(conversion_rate as double) as conversion_rate,
        cast(baseline_conversion_rate as double) as baseline_conversion_rate,
        cast(conversion_upper_bound as double) as conversion_upper_bound,
        cast(confidence as double) as confidence,
        cast(is_high_interest_low_conversion as boolean) as is_high_interest_low_conversion,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
