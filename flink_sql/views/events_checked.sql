-- The first rule each record breaks, as a quarantine reason code (null when the record is valid).
create temporary view events_checked as
select
    *,
    case
        when not is_json_object then 'invalid_json'
        when event_id is null or trim(event_id) = '' then 'missing_event_id'
        when event_type is null or trim(event_type) = '' then 'missing_event_type'
        when event_type not in (
            'page_view', 'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
        ) then 'unknown_event_type'
        when event_at_text is null or trim(event_at_text) = '' then 'missing_event_at'
        -- Exactly YYYY-MM-DDTHH:MM:SS.mmmZ of a real instant (event_at is the epoch when unreadable
        -- or far in the future, which never formats back to the text).
        when date_format(event_at, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') <> event_at_text
            then 'invalid_event_at'
        when user_id is null or trim(user_id) = '' then 'missing_user_id'
        when event_type in ('product_view', 'add_to_cart', 'remove_from_cart')
            and (product_id is null or trim(product_id) = '') then 'missing_product_id'
        -- A price of more than two decimals is null (parse_event never rounds).
        when event_type in ('product_view', 'add_to_cart', 'remove_from_cart')
            and (price is null or price <= 0) then 'invalid_price'
        when event_type in ('add_to_cart', 'remove_from_cart')
            and has_quantity and (quantity is null or quantity < 1) then 'invalid_quantity'
        when event_type = 'purchase'
            and (order_id is null or item_product_ids is null or cardinality(item_product_ids) = 0)
            then 'missing_order'
        -- Every line item needs a product, a quantity >= 1 and a unit price > 0 (of at most two
        -- decimals: parse_event reads more as null).
        when event_type = 'purchase' and (
            array_contains(item_product_ids, cast(null as string))
            or array_contains(item_quantities, cast(null as int))
            or array_contains(item_unit_prices, cast(null as decimal(12, 2)))
            or array_min(item_quantities) < 1
            or array_min(item_unit_prices) <= 0
        ) then 'invalid_order_item'
        -- The contract's limits (docs/events.md), so every amount silver keeps fits its type and
        -- every sum of them downstream; a number beyond its type reads as the type's largest.
        when (
            event_type in ('product_view', 'add_to_cart', 'remove_from_cart')
            and price > 100000.00
        ) or (
            event_type in ('add_to_cart', 'remove_from_cart') and quantity > 1000
        ) or (
            event_type = 'purchase' and (
                array_max(item_quantities) > 1000
                or array_max(item_unit_prices) > 100000.00
                or order_total > 1000000.00
            )
        ) then 'amount_out_of_range'
    end as quarantine_reason
from events_parsed;
