-- Products with many views in a sliding window, judged against the rest of the shop: flagged when,
-- at the configured confidence, their conversion is below a fraction of the shop's (docs/lake.md).
create temporary view high_interest_products as
select
    window_start,
    window_end,
    product_id,
    view_count,
    purchase_count,
    conversion_rate,
    baseline_conversion_rate,
    conversion_upper_bound,
    cast(${hilc_confidence} as double) as confidence,
    coalesce(
        conversion_upper_bound < ${hilc_conversion_ratio} * baseline_conversion_rate, false
    ) as is_high_interest_low_conversion
from (
    select
        window_start,
        window_end,
        product_id,
        view_count,
        purchase_count,
        conversion_rate,
        baseline_conversion_rate,
        -- Upper end of the Wilson score interval of purchase_count successes in view_count trials.
        (
            p + z * z / (2 * n)
            + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        ) / (1 + z * z / n) as conversion_upper_bound
    from (
        select
            product.window_start,
            product.window_end,
            product.product_id,
            product.view_count,
            product.purchase_count,
            cast(product.purchase_count as double) / product.view_count as conversion_rate,
            -- The rest of the shop: a product with a large share must not set its own baseline.
            cast(shop.purchase_count - product.purchase_count as double)
            / nullif(shop.view_count - product.view_count, 0) as baseline_conversion_rate,
            cast(product.view_count as double) as n,
            -- Purchases of views from before the window can outnumber its views.
            least(cast(product.purchase_count as double) / product.view_count, 1.0) as p,
            cast(${hilc_z} as double) as z
        from product_conversion_per_slide as product
        inner join shop_conversion_per_slide as shop
            on
                product.window_start = shop.window_start
                and product.window_end = shop.window_end
        where product.view_count >= ${hilc_min_views}
    )
);
