with

source as (

    select * from {{ source('lake', 'gold_revenue_per_window') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,

        -- measures
        cast(order_count as bigint) as order_count,
        cast(revenue as decimal(12, 2)) as revenue,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
