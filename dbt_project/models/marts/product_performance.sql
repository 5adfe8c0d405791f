{%- set date_range = incremental_date_range('event_date') -%}

with

events as (

    select * from {{ ref('stg_lake__events') }}
    where {{ in_date_range('event_date', date_range) }}

),

order_items as (

    select * from {{ ref('stg_lake__order_items') }}
    where {{ in_date_range('event_date', date_range) }}

),

product_events_counted as (

    select
        event_date,
        product_id,
        arg_max(category, event_at) as category,
        arg_max(brand, event_at) as brand,
        count(*) filter (where event_type = 'product_view') as view_count,
        -- cheaper than count(distinct ...) on many small groups; list_distinct drops nulls
        len(list_distinct(list(user_id) filter (where event_type = 'product_view')))
            as viewer_count,
        count(*) filter (where event_type = 'add_to_cart') as add_to_cart_count,
        count(*) filter (where event_type = 'remove_from_cart') as remove_from_cart_count

    from events
    where product_id is not null
    group by event_date, product_id

),

product_orders_counted as (

    select
        event_date,
        product_id,
        arg_max(category, event_at) as category,
        arg_max(brand, event_at) as brand,
        len(list_distinct(list(order_id))) as order_count,
        sum(quantity) as units_sold,
        sum(line_total) as revenue

    from order_items
    group by event_date, product_id

),

products_joined as (

    select
        coalesce(product_events_counted.event_date, product_orders_counted.event_date)
            as event_date,
        coalesce(product_events_counted.product_id, product_orders_counted.product_id)
            as product_id,
        coalesce(product_events_counted.category, product_orders_counted.category) as category,
        coalesce(product_events_counted.brand, product_orders_counted.brand) as brand,
        coalesce(product_events_counted.view_count, 0) as view_count,
        coalesce(product_events_counted.viewer_count, 0) as viewer_count,
        coalesce(product_events_counted.add_to_cart_count, 0) as add_to_cart_count,
        coalesce(product_events_counted.remove_from_cart_count, 0) as remove_from_cart_count,
        coalesce(product_orders_counted.order_count, 0) as order_count,
        coalesce(product_orders_counted.units_sold, 0) as units_sold,
        coalesce(product_orders_counted.revenue, 0) as revenue

    from product_events_counted
    full outer join product_orders_counted
        on
            product_events_counted.event_date = product_orders_counted.event_date
            and product_events_counted.product_id = product_orders_counted.product_id

),

shop_daily as (

    select
        event_date,
        sum(view_count) as shop_view_count,
        sum(order_count) as shop_order_count

    from products_joined
    group by event_date

),

products_judged as (

    -- The statistic of flink_sql/views/high_interest_products.sql over a whole day: the
    -- product's conversion against the rest of the shop's that day (docs/lake.md).
    select
        products_joined.*,
        (shop_daily.shop_order_count - products_joined.order_count)
        / nullif(shop_daily.shop_view_count - products_joined.view_count, 0)
            as baseline_conversion_rate,
        {{ wilson_upper_bound(
            'products_joined.order_count',
            'products_joined.view_count',
            normal_quantile(var('hilc_confidence'))
        ) }} as conversion_upper_bound

    from products_joined
    inner join shop_daily
        on products_joined.event_date = shop_daily.event_date

),

final as (

    select
        product_id,
        event_date,
        category,
        brand,
        view_count,
        viewer_count,
        add_to_cart_count,
        remove_from_cart_count,
        order_count,
        cast(units_sold as bigint) as units_sold,
        cast(revenue as decimal(18, 2)) as revenue,
        add_to_cart_count / nullif(view_count, 0) as view_to_cart_rate,
        order_count / nullif(view_count, 0) as conversion_rate,
        baseline_conversion_rate,
        conversion_upper_bound,
        coalesce(
            view_count >= {{ var('hilc_min_views') }}
            and conversion_upper_bound
            < {{ var('hilc_conversion_ratio') }} * baseline_conversion_rate,
            false
        ) as is_high_interest_low_conversion

    from products_judged

)

select * from final
