"""Typed domain of the simulator: products, users, sessions, the run configuration and the
Kafka record it yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple


class Record(NamedTuple):
    """One Kafka record, as the simulator and the REES46 replay yield it."""

    key: str
    value: bytes
    partition: int | None  # explicit partition, None = the producer's partitioner decides
    fault: str | None  # None | duplicate | out_of_order | late | malformed
    reason: str | None  # quarantine reason code of a malformed record
    event_id: str | None  # None when the payload carries no readable event_id


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    category: str
    brand: str
    price: float  # unit price, 2 decimals
    url: str  # product page without query string
    category_url: str  # listing page of its category
    fields: dict[str, str | float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the product's part of an event payload, built once
        fields = {
            "product_id": self.product_id,
            "category": self.category,
            "brand": self.brand,
            "price": self.price,
        }
        object.__setattr__(self, "fields", fields)


@dataclass(slots=True)
class User:
    user_id: str
    device_type: str | None  # raw, messy spelling kept for the user's next sessions
    browser: str | None  # raw, messy spelling
    is_bot: bool = False
    session_count: int = 0


@dataclass(slots=True)
class Session:
    session_id: str
    user: User
    device_type: str | None
    browser: str | None
    is_bot: bool
    events_left: int  # hard cap; humans mostly end earlier by chance
    think_ms: float  # bots: mean gap between events
    extra: dict[str, str] | None = None  # unknown fields some clients send
    event_count: int = 0
    last_event_type: str | None = None
    last_event_ms: int = 0
    last_url: str | None = None
    last_product: Product | None = None
    cart: dict[str, list] = field(default_factory=dict)  # product_id -> [Product, quantity]


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that shapes a simulated run; the same config gives the same bytes."""

    seed: int
    start_at: datetime  # simulated time of the first record (UTC)
    sim_rate: float = 100.0  # records per simulated second
    partitions: int = 3  # partition count of the topic (explicit-partition duplicates)
    product_count: int = 500
    known_users: int = 50_000  # customers who visited before the run and may return
    returning_rate: float = 0.35  # share of new human sessions by a known (returning) user
    session_gap: timedelta = timedelta(minutes=30)  # min inactivity between a user's sessions
    bot_rate: float = 0.002  # share of new sessions that are bots
    bot_events_per_minute: float = 120.0
    hot_product_view_share: float = 0.20  # share of product views on the hot product
    hot_product_purchase_rate: float = 0.01  # purchases per view of the hot product
    # Featured products, drawn from the catalog by seed, each with featured_view_share of the
    # product views: low_converting ones rarely sell (labelled, like the hot product, e.g. a
    # broken product page); lukewarm ones sell at lukewarm_conversion_factor of an ordinary
    # product's rate (low but ordinary: not labelled, what a flag must not raise an alarm for).
    low_converting_products: int = 2
    low_converting_purchase_rate: float = 0.002  # purchases per view
    lukewarm_products: int = 3
    lukewarm_conversion_factor: float = 0.7
    featured_view_share: float = 0.03
    duplicate_rate: float = 0.01
    duplicate_other_partition_share: float = 0.3  # duplicates sent explicitly elsewhere
    out_of_order_rate: float = 0.02
    late_rate: float = 0.005  # share of records after the late warm-up
    late_by: timedelta = timedelta(minutes=30)
    late_after_fraction: float = 0.2  # bounded runs: no late record in the first 20%
    late_warmup_records: int = 10_000  # unbounded runs: no late record before this many
    malformed_rate: float = 0.005

    def __post_init__(self) -> None:
        if self.sim_rate <= 0:
            raise ValueError("sim_rate must be > 0")
        if self.partitions < 1:
            raise ValueError("partitions must be >= 1")
        if self.product_count < 10:
            raise ValueError("product_count must be >= 10")
        rates = {
            "duplicate_rate": self.duplicate_rate,
            "out_of_order_rate": self.out_of_order_rate,
            "late_rate": self.late_rate,
            "malformed_rate": self.malformed_rate,
            "bot_rate": self.bot_rate,
            "returning_rate": self.returning_rate,
            "hot_product_view_share": self.hot_product_view_share,
            "hot_product_purchase_rate": self.hot_product_purchase_rate,
            "low_converting_purchase_rate": self.low_converting_purchase_rate,
            "lukewarm_conversion_factor": self.lukewarm_conversion_factor,
            "featured_view_share": self.featured_view_share,
            "duplicate_other_partition_share": self.duplicate_other_partition_share,
            "late_after_fraction": self.late_after_fraction,
        }
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {rate}")
        fault_total = (
            self.duplicate_rate + self.out_of_order_rate + self.late_rate + self.malformed_rate
        )
        if fault_total > 0.5:
            raise ValueError(f"fault rates add up to {fault_total:.2f}; keep them <= 0.5")
        if self.late_by < timedelta(seconds=10):
            raise ValueError("late_by must be >= 10 s to stay behind any watermark")
        featured = self.low_converting_products + self.lukewarm_products
        if self.low_converting_products < 0 or self.lukewarm_products < 0:
            raise ValueError("low_converting_products and lukewarm_products must be >= 0")
        if featured >= self.product_count:
            raise ValueError(f"{featured} featured products need a larger catalog")
        if self.hot_product_view_share + featured * self.featured_view_share > 1.0:
            raise ValueError(
                "hot_product_view_share + featured_view_share per featured product exceeds 1"
            )
        if self.bot_events_per_minute <= 50:
            raise ValueError("bot_events_per_minute must be > 50 (the bot threshold)")
