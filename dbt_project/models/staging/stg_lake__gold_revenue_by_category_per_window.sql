with

source as (

    select * from {{ source('lake', 'gold_revenue_by_category_per_window') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,

        -- key
        cast(category as varchar) as category,

        -- measures
        cast(items_sold as bigint) as items_sold,
        cast(revenue as decimal(12, 2)) as revenue,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
