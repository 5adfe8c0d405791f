{#-
    Incremental by user: a run aggregates the users active in its date range and folds in what the
    model already holds for them. Every measure is a min or a max, so re-running a range changes
    nothing.
-#}
{%- set date_range = incremental_date_range('cast(last_seen_at as date)') -%}

with

events as (

    select * from {{ ref('stg_lake__events') }}
    where {{ in_date_range('event_date', date_range) }}

),

users_in_range as (

    select
        user_id,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        min(event_at) filter (where event_type = 'product_view') as first_product_viewed_at,
        min(event_at) filter (where event_type = 'add_to_cart') as first_added_to_cart_at,
        min(event_at) filter (where event_type = 'purchase') as first_purchased_at

    from events
    group by user_id

),

{% if is_incremental() %}

users_loaded as (

    select
        user_id,
        first_seen_at,
        last_seen_at,
        first_product_viewed_at,
        first_added_to_cart_at,
        first_purchased_at

    from {{ this }}
    where user_id in (select user_id from users_in_range)

),

users_combined as (

    select
        user_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        min(first_product_viewed_at) as first_product_viewed_at,
        min(first_added_to_cart_at) as first_added_to_cart_at,
        min(first_purchased_at) as first_purchased_at

    from (
        select * from users_in_range
        union all
        select * from users_loaded
    ) as users_both
    group by user_id

),

{% else %}

users_combined as (

    select * from users_in_range

),

{% endif %}

users_staged as (

    select
        *,
        case
            when first_purchased_at is not null then 'purchased'
            when first_added_to_cart_at is not null then 'added_to_cart'
            when first_product_viewed_at is not null then 'viewed_product'
            else 'visited'
        end as furthest_stage,
        coalesce(
            first_purchased_at, first_added_to_cart_at, first_product_viewed_at, first_seen_at
        ) as furthest_stage_reached_at

    from users_combined

),

final as (

    select
        user_id,
        furthest_stage,
        case furthest_stage
            when 'visited' then 1
            when 'viewed_product' then 2
            when 'added_to_cart' then 3
            when 'purchased' then 4
        end as furthest_stage_number,
        furthest_stage_reached_at,
        (epoch_ms(furthest_stage_reached_at) - epoch_ms(first_seen_at))
        / 1000 as seconds_to_furthest_stage,
        first_seen_at,
        last_seen_at,
        first_product_viewed_at,
        first_added_to_cart_at,
        first_purchased_at,
        first_product_viewed_at is not null as has_viewed_product,
        first_added_to_cart_at is not null as has_added_to_cart,
        first_purchased_at is not null as has_purchased

    from users_staged

)

select * from final
