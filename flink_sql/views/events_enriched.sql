-- Silver events: standardized device and browser, URL parts, date parts and a high-value flag.
create temporary view events_enriched as
select
    event_id,
    event_type,
    event_at,
    user_id,
    session_id,
    case when event_type in ('product_view', 'add_to_cart', 'remove_from_cart') then product_id end
        as product_id,
    category,
    brand,
    case when event_type in ('product_view', 'add_to_cart', 'remove_from_cart') then price end
        as price,
    case
        when event_type in ('add_to_cart', 'remove_from_cart')
            then coalesce(quantity, 1)
    end as quantity,
    case when event_type = 'purchase' then order_id end as order_id,
    case when event_type = 'purchase' then cardinality(item_product_ids) end as item_count,
    item_product_ids,
    item_categories,
    item_brands,
    item_quantities,
    item_unit_prices,
    case
        when lower(trim(device_type_raw)) in ('mobile', 'phone', 'smartphone') then 'mobile'
        when lower(trim(device_type_raw)) in ('desktop', 'pc') then 'desktop'
        when lower(trim(device_type_raw)) in ('tablet', 'ipad') then 'tablet'
        else 'unknown'
    end as device_type,
    case
        when browser_raw is null or trim(browser_raw) = '' then 'unknown'
        when lower(browser_raw) like '%edg%' then 'edge'
        when lower(browser_raw) like '%chrome%' then 'chrome'
        when lower(browser_raw) like '%firefox%' then 'firefox'
        when lower(browser_raw) like '%safari%' then 'safari'
        else 'other'
    end as browser,
    page_url,
    parse_url(page_url, 'HOST') as url_domain,
    parse_url(page_url, 'PATH') as url_path,
    referrer,
    coalesce(
        case
            when event_type = 'purchase' then array_max(item_unit_prices)
            when event_type <> 'page_view' then price
        end >= ${high_value_price},
        false
    ) as is_high_value,
    cast(event_at as date) as event_date,
    cast(hour(event_at) as int) as event_hour,
    kafka_partition,
    kafka_offset,
    ingested_at
from events_on_time;
