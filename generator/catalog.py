"""Reference data of the simulated shop: categories, brands, prices, devices, browsers, referrers.

The product catalog depends only on its size, not on the run's seed, so product ids mean the
same product in every run.
"""

from __future__ import annotations

import random

from generator.model import Product

SHOP_URL = "https://shop.example.com"

# category -> (brands, min price, max price)
CATEGORIES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "electronics.smartphone": (("apple", "samsung", "xiaomi", "oppo", "huawei"), 120.0, 1300.0),
    "electronics.audio.headphone": (("apple", "sony", "jbl", "sennheiser"), 15.0, 450.0),
    "electronics.video.tv": (("samsung", "lg", "sony", "tcl"), 180.0, 2400.0),
    "electronics.clocks": (("casio", "garmin", "apple", "fossil"), 25.0, 800.0),
    "computers.notebook": (("lenovo", "hp", "asus", "acer", "apple"), 280.0, 2600.0),
    "computers.peripherals.mouse": (("logitech", "razer", "a4tech"), 8.0, 120.0),
    "appliances.kitchen.refrigerators": (("lg", "samsung", "bosch", "beko"), 300.0, 2200.0),
    "appliances.kitchen.kettle": (("tefal", "bosch", "philips", "redmond"), 12.0, 90.0),
    "appliances.environment.vacuum": (("dyson", "samsung", "xiaomi", "philips"), 60.0, 700.0),
    "apparel.shoes": (("nike", "adidas", "puma", "reebok"), 30.0, 220.0),
    "apparel.jacket": (("columbia", "nike", "zara"), 40.0, 380.0),
    "furniture.living_room.sofa": (("ikea", "askona"), 250.0, 1800.0),
    "kids.toys": (("lego", "hasbro", "mattel"), 6.0, 160.0),
    "sport.bicycle": (("trek", "giant", "stels"), 180.0, 1900.0),
    "beauty.fragrance": (("chanel", "dior", "shiseido"), 20.0, 240.0),
    "auto.accessories.player": (("pioneer", "kenwood", "jvc"), 35.0, 400.0),
}

# Raw device_type spellings, grouped by what silver standardizes them to.
DEVICES: tuple[tuple[float, tuple[str | None, ...]], ...] = (
    (0.55, ("mobile", "Mobile", "phone", "MOBILE", " smartphone", "Phone")),
    (0.36, ("desktop", "Desktop", "PC", "pc", "DESKTOP ")),
    (0.07, ("tablet", "Tablet", "iPad", "ipad")),
    (0.02, ("smart-tv", "console", "", None)),
)

# Raw browser spellings, grouped by what silver standardizes them to.
BROWSERS: tuple[tuple[float, tuple[str | None, ...]], ...] = (
    (
        0.58,
        (
            "Chrome 119",
            "chrome",
            "CHROME",
            "Chrome/120.0.6099.71",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.6099.43 Mobile Safari/537.36",
        ),
    ),
    (
        0.20,
        (
            "Safari",
            "safari",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        ),
    ),
    (
        0.08,
        (
            "Firefox",
            "firefox 120",
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        ),
    ),
    (
        0.08,
        (
            "Edg/119.0",
            "Microsoft Edge",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97",
        ),
    ),
    (0.04, ("Opera", "Samsung Internet", "UCBrowser 13.4")),
    (0.02, ("", None)),
)

BOT_BROWSERS: tuple[str, ...] = (
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.4.0",
    "HeadlessChrome/119.0.6045.105",
    "Scrapy/2.11.0 (+https://scrapy.org)",
)
BOT_DEVICES: tuple[str | None, ...] = ("desktop", "PC", None)

# Where a session's first page came from: (weight, referrer, query string of the landing page).
LANDINGS: tuple[tuple[float, str | None, str], ...] = (
    (0.30, None, ""),
    (0.25, "https://www.google.com/", "?utm_source=google&utm_medium=organic"),
    (0.15, "https://www.google.com/", "?utm_source=google&utm_medium=cpc&utm_campaign=brand"),
    (0.10, "https://www.facebook.com/", "?utm_source=facebook&utm_medium=social"),
    (0.07, "https://www.instagram.com/", "?utm_source=instagram&utm_medium=social"),
    (0.08, "https://mail.example.org/", "?utm_source=newsletter&utm_medium=email"),
    (0.05, "https://t.co/", "?utm_source=twitter"),
)

SEARCH_TERMS: tuple[str, ...] = (
    "iphone",
    "wireless+headphones",
    "tv+55",
    "laptop",
    "running+shoes",
    "lego",
    "vacuum+cleaner",
    "smart+watch",
    "sofa",
    "kettle",
)

AB_VARIANTS: tuple[str, ...] = ("checkout_v2", "control", "new_search")

HOT_PRODUCT_ID = "P00001"


def build_catalog(product_count: int) -> list[Product]:
    """Products P00001.. spread over the categories; P00001 is the high-interest flagship."""
    rng = random.Random(f"catalog-{product_count}")
    names = list(CATEGORIES)
    products = [
        Product(
            HOT_PRODUCT_ID,
            "electronics.smartphone",
            "apple",
            1199.99,
            f"{SHOP_URL}/product/{HOT_PRODUCT_ID}",
            f"{SHOP_URL}/category/electronics/smartphone",
        )
    ]
    for number in range(2, product_count + 1):
        category = names[number % len(names)]
        brands, low, high = CATEGORIES[category]
        product_id = f"P{number:05d}"
        # log-uniform prices: many cheap items, few expensive ones
        price = round(low * (high / low) ** rng.random(), 2)
        products.append(
            Product(
                product_id,
                category,
                rng.choice(brands),
                max(price, 0.99),
                f"{SHOP_URL}/product/{product_id}",
                f"{SHOP_URL}/category/{category.replace('.', '/')}",
            )
        )
    return products


def cumulative(weights: list[float]) -> list[float]:
    """Cumulative weights for random.choices(cum_weights=...)."""
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out
