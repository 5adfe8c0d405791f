with

source as (

    select * from {{ source('lake', 'gold_sessions') }}

),

renamed as (

    select
        -- key: the sessions mart's key, from the same two columns
        {{ session_key('user_id', 'started_at') }} as session_id,
        cast(user_id as varchar) as user_id,

        -- times
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,
        cast(duration_seconds as double) as duration_seconds,
        cast(closed_at as timestamp) as closed_at,

        -- measures
        cast(event_count as bigint) as event_count,
        cast(product_view_count as bigint) as product_view_count,
        cast(viewed_product_count as bigint) as viewed_product_count,
        cast(viewed_category_count as bigint) as viewed_category_count,
        cast(add_to_cart_count as bigint) as add_to_cart_count,
        cast(remove_from_cart_count as bigint) as remove_from_cart_count,
        cast(purchase_count as bigint) as purchase_count,
        cast(revenue as decimal(12, 2)) as revenue,
        cast(device_type as varchar) as device_type,
        cast(is_converted as boolean) as is_converted,
        cast(is_bounced as boolean) as is_bounced,

        -- partition
        cast(dt as date) as session_date

    from source

)

select * from renamed
