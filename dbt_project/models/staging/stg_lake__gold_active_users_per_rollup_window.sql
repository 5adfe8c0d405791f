with

source as (

    select * from {{ source('lake', 'gold_active_users_per_rollup_window') }}

),

renamed as (

    select
        -- window
        cast(window_start as timestamp) as window_start,
        cast(window_end as timestamp) as window_end,
        cast(window_minutes as integer) as window_minutes,

        -- measures
        cast(active_users as bigint) as active_user_count,

        -- partition
        cast(dt as date) as window_date

    from source

)

select * from renamed
