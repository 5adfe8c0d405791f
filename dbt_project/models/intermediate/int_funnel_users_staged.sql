{#-
    One row per user and funnel cell (event_date, device_type, category) in which the user viewed
    a product, with the first time the user reached each step *in order*: the first view, the first
    add-to-cart at or after it, the first purchase at or after that. Because a later step only
    counts after the earlier one, step counts built from this are monotonic by construction.
-#}

with

funnel_steps as (

    select * from {{ ref('int_funnel_steps_unioned') }}

),

users_viewed as (

    select
        event_date,
        device_type,
        category,
        user_id,
        min(event_at) as first_viewed_at

    from funnel_steps
    where funnel_step = 1
    group by event_date, device_type, category, user_id

),

users_carted as (

    select
        users_viewed.event_date,
        users_viewed.device_type,
        users_viewed.category,
        users_viewed.user_id,
        min(carts.event_at) as first_carted_at

    from users_viewed
    inner join funnel_steps as carts
        on
            users_viewed.event_date = carts.event_date
            and users_viewed.device_type = carts.device_type
            and users_viewed.category = carts.category
            and users_viewed.user_id = carts.user_id
            and carts.funnel_step = 2
            and carts.event_at >= users_viewed.first_viewed_at
    group by
        users_viewed.event_date,
        users_viewed.device_type,
        users_viewed.category,
        users_viewed.user_id

),

users_purchased as (

    select
        users_carted.event_date,
        users_carted.device_type,
        users_carted.category,
        users_carted.user_id,
        min(purchases.event_at) as first_purchased_at

    from users_carted
    inner join funnel_steps as purchases
        on
            users_carted.event_date = purchases.event_date
            and users_carted.device_type = purchases.device_type
            and users_carted.category = purchases.category
            and users_carted.user_id = purchases.user_id
            and purchases.funnel_step = 3
            and purchases.event_at >= users_carted.first_carted_at
    group by
        users_carted.event_date,
        users_carted.device_type,
        users_carted.category,
        users_carted.user_id

),

final as (

    select
        users_viewed.event_date,
        users_viewed.device_type,
        users_viewed.category,
        users_viewed.user_id,
        users_viewed.first_viewed_at,
        users_carted.first_carted_at,
        users_purchased.first_purchased_at

    from users_viewed
    left join users_carted
        on
            users_viewed.event_date = users_carted.event_date
            and users_viewed.device_type = users_carted.device_type
            and users_viewed.category = users_carted.category
            and users_viewed.user_id = users_carted.user_id
    left join users_purchased
        on
            users_viewed.event_date = users_purchased.event_date
            and users_viewed.device_type = users_purchased.device_type
            and users_viewed.category = users_purchased.category
            and users_viewed.user_id = users_purchased.user_id

)

select * from final
