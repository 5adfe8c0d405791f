with

source as (

    select *
    from {{ source('lake', 'gold_purchases_by_device_per_rollup_window') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,
        cast(window_minutes as integer) as window_minutes,

        -- key
        cast(device_type as varchar) as device_type,

        -- measures
        cast(purchase_count as bigint) as purchase_count,
        cast(revenue as decimal(12, 2)) as revenue,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
