"""Deterministic clickstream simulation: one seeded random.Random drives every choice, id and
timestamp, so the same GeneratorConfig yields the same records byte for byte.

Simulated time advances by 1/sim_rate per record. Each tick either continues the session that
is due first (sessions wait a think time between events) or, when none is due, starts a new
one, so the number of concurrent sessions settles where their events fill the rate.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TypeVar

import orjson

from generator.catalog import (
    AB_VARIANTS,
    BOT_BROWSERS,
    BOT_DEVICES,
    BROWSERS,
    DEVICES,
    LANDINGS,
    SEARCH_TERMS,
    SHOP_URL,
    build_catalog,
    cumulative,
)
from generator.contract import (
    ADD_TO_CART,
    CURRENCY,
    DUPLICATE,
    EVENT_TYPES,
    LATE,
    MALFORMED,
    MAX_DISORDER_MS,
    OUT_OF_ORDER,
    PAGE_VIEW,
    PRODUCT_VIEW,
    PURCHASE,
    REASONS,
    REMOVE_FROM_CART,
    SOURCE_SIMULATOR,
    format_event_at,
    to_epoch_ms,
)
from generator.faults import REASON_EVENT_TYPES, corrupt, other_partition
from generator.model import GeneratorConfig, Product, Record, Session, User

# Human behaviour. After an event of type T the session ends with END_AFTER[T]; otherwise,
# when it is due again and has a cart, it buys with PURCHASE_AFTER[T].
END_AFTER = {
    PAGE_VIEW: 0.12,
    PRODUCT_VIEW: 0.14,
    ADD_TO_CART: 0.10,
    REMOVE_FROM_CART: 0.20,
    PURCHASE: 0.70,
}
PURCHASE_AFTER = {
    PAGE_VIEW: 0.06,
    PRODUCT_VIEW: 0.05,
    ADD_TO_CART: 0.40,
    REMOVE_FROM_CART: 0.20,
    PURCHASE: 0.0,
}
BOUNCE_RATE = 0.40  # sessions that end after their landing page
REMOVE_AFTER_ADD = 0.08
CART_RATE = 0.15  # add_to_cart after viewing an ordinary product
# Purchases per product view divided by the add_to_cart rate, measured over long runs (some
# views end the session or lead to buying the cart instead; bots never buy). Calibrates the hot
# product's add_to_cart rate from its target purchase rate.
PURCHASES_PER_CART_RATE = 0.35
POPULARITY_EXPONENT = 0.6  # Zipf-like product popularity
MAX_HUMAN_EVENTS = 60
THINK_LOG_MEDIAN = math.log(9_000.0)  # log-normal think time between a user's events (ms)
THINK_LOG_SIGMA = 0.9
THINK_MIN_MS = 2_000  # > MAX_DISORDER_MS: an out-of-order shift never reorders a session
THINK_MAX_MS = 300_000  # well below session_gap
LANDING_PRODUCT_SHARE = 0.35  # sessions landing on a product page (ads, search results)
CATEGORY_AFFINITY = 0.6  # product views picked from the category page just browsed
RECENT_RECORDS = 32  # duplicates re-send one of the last records
MAX_RETURNING_POOL = 200_000

T = TypeVar("T")

# uuid4 bit surgery on a random 128-bit int
_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID_SET = (0x4 << 76) | (0x2 << 62)


class Simulation:
    """A seeded run; iterate `records(count)` once. `labels()` describes the run for the
    ground truth: the injected low-conversion products and the bots."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self._random = self.rng.random
        self.products = build_catalog(config.product_count)
        self.hot_product = self.products[0]
        self._others = self.products[1:]
        # Featured products come from their own seeded draw, so the main stream stays one rng.
        featured = random.Random(f"featured-{config.seed}").sample(
            self._others, config.low_converting_products + config.lukewarm_products
        )
        self.low_converting_products = featured[: config.low_converting_products]
        self.lukewarm_products = featured[config.low_converting_products :]
        self._featured = featured
        self._featured_share = config.featured_view_share
        self._hot_share = config.hot_product_view_share
        self._picked_share = self._hot_share + len(featured) * self._featured_share
        # add_to_cart rate after a view, for the products that do not convert like the rest
        self._cart_rates = {
            self.hot_product.product_id: _cart_rate(config.hot_product_purchase_rate),
            **{
                product.product_id: _cart_rate(config.low_converting_purchase_rate)
                for product in self.low_converting_products
            },
            **{
                product.product_id: CART_RATE * config.lukewarm_conversion_factor
                for product in self.lukewarm_products
            },
        }
        self._others_cum = cumulative(
            [1 / rank**POPULARITY_EXPONENT for rank in range(1, len(self._others) + 1)]
        )
        self._by_category: dict[str, list[Product]] = {}
        for product in self._others:
            self._by_category.setdefault(product.category_url, []).append(product)
        self._category_urls = list(self._by_category)
        self._devices = _flatten(DEVICES)
        self._browsers = _flatten(BROWSERS)
        self._landing_cum = cumulative([weight for weight, _, _ in LANDINGS])
        self.start_ms = to_epoch_ms(config.start_at)
        self._late_by_ms = int(config.late_by.total_seconds() * 1000)
        self._gap_ms = int(config.session_gap.total_seconds() * 1000)
        self._heap: list[tuple[int, int, Session]] = []
        self._tiebreak = 0
        self._resting: deque[tuple[int, User]] = deque()  # (may return at, user)
        self._returning: list[User] = self._known_users(config.known_users)
        self._recent: deque[tuple[int, str, bytes, str]] = deque(maxlen=RECENT_RECORDS)
        self._ts_second = -1
        self._ts_prefix = ""
        self.bot_started_ms: dict[str, int] = {}  # bot user id -> when its session started

    @property
    def bot_user_ids(self) -> list[str]:
        """The bots so far, in the order their sessions started."""
        return list(self.bot_started_ms)

    def labels(self) -> dict[str, str | list[str]]:
        """What the flags should find, for the ground-truth summary: the products injected with
        a conversion far below the shop's (the hot product first), and the bots so far.
        Lukewarm products convert low but ordinarily: listed so an evaluation can show them."""
        return {
            "hot_product_id": self.hot_product.product_id,
            "low_conversion_product_ids": [
                product.product_id for product in (self.hot_product, *self.low_converting_products)
            ],
            "lukewarm_product_ids": [product.product_id for product in self.lukewarm_products],
            "bot_user_ids": self.bot_user_ids,
        }

    # ----------------------------------------------------------------------------- the stream

    def records(self, count: int | None = None) -> Iterator[Record]:
        """`count` records (forever if None). Late records start after late_after_fraction of
        a bounded run, or after late_warmup_records of an unbounded one."""
        cfg = self.config
        rng = self.rng
        random_ = rng.random
        next_event = self._next_event
        recent_append = self._recent.append
        dumps = orjson.dumps
        c_dup = cfg.duplicate_rate
        c_ooo = c_dup + cfg.out_of_order_rate
        c_late = c_ooo + cfg.late_rate
        c_bad = c_late + cfg.malformed_rate
        if count is None:
            late_from = cfg.late_warmup_records
        else:
            late_from = math.ceil(count * cfg.late_after_fraction)
        start_ms = self.start_ms
        step_ms = 1000.0 / cfg.sim_rate
        seq = 0
        while count is None or seq < count:
            now = start_ms + int(seq * step_ms)
            seq += 1
            draw = random_()
            if draw < c_bad:
                if draw < c_dup:
                    record = self._duplicate(now)
                    if record is not None:
                        yield record
                        continue
                elif draw < c_ooo:
                    event_at = now - rng.randrange(200, MAX_DISORDER_MS - 100)
                    if event_at >= start_ms:
                        event = next_event(now, event_at)
                        key = event["user_id"]
                        value = dumps(event)
                        recent_append((event_at, key, value, event["event_id"]))
                        yield Record(key, value, None, OUT_OF_ORDER, None, event["event_id"])
                        continue
                elif draw < c_late:
                    if seq > late_from:
                        event = self._late_event(now)
                        yield Record(
                            event["user_id"], dumps(event), None, LATE, None, event["event_id"]
                        )
                        continue
                else:
                    yield self._malformed(now)
                    continue
            event = next_event(now, now)
            key = event["user_id"]
            value = dumps(event)
            recent_append((now, key, value, event["event_id"]))
            yield Record(key, value, None, None, None, event["event_id"])

    # --------------------------------------------------------------------------- sessions

    def _next_event(self, now: int, event_at: int) -> dict:
        """The next event of the session due first, or of a new session if none is due."""
        heap = self._heap
        if heap and heap[0][0] <= now:
            session = heap[0][2]
            # an out-of-order shift never reorders a session (bots click faster than 2 s)
            event = self._session_event(session, max(event_at, session.last_event_ms + 1))
            due = self._next_due(session, now)
            if due:
                self._tiebreak += 1
                heapq.heapreplace(heap, (due, self._tiebreak, session))
            else:
                heapq.heappop(heap)
                self._retire(session, now)
        else:
            session = self._start_session(now)
            event = self._session_event(session, event_at)
            due = self._next_due(session, now)
            if due:
                self._tiebreak += 1
                heapq.heappush(heap, (due, self._tiebreak, session))
            else:
                self._retire(session, now)
        return event

    def _start_session(self, now: int) -> Session:
        rng = self.rng
        resting = self._resting
        while resting and resting[0][0] <= now:
            self._returning.append(resting.popleft()[1])
        if rng.random() < self.config.bot_rate:
            user = User(
                f"U{rng.getrandbits(48):012x}",
                rng.choice(BOT_DEVICES),
                rng.choice(BOT_BROWSERS),
                is_bot=True,
            )
            self.bot_started_ms[user.user_id] = now
            return Session(
                self._uuid(),
                user,
                user.device_type,
                user.browser,
                True,
                rng.randint(200, 600),
                60_000 / self.config.bot_events_per_minute,
            )
        returning = self._returning
        if returning and rng.random() < self.config.returning_rate:
            index = rng.randrange(len(returning))
            user = returning[index]
            returning[index] = returning[-1]
            returning.pop()
        else:
            user = self._new_user(rng)
        device = user.device_type if rng.random() < 0.85 else self._pick(self._devices)
        browser = user.browser if rng.random() < 0.85 else self._pick(self._browsers)
        extra = {"ab_variant": rng.choice(AB_VARIANTS)} if rng.random() < 0.05 else None
        user.session_count += 1
        return Session(self._uuid(), user, device, browser, False, MAX_HUMAN_EVENTS, 0.0, extra)

    def _next_due(self, session: Session, now: int) -> int:
        """When the session's next event is due (after a think time), 0 if it ends now."""
        random_ = self._random
        session.events_left -= 1
        if session.events_left <= 0:
            return 0
        if session.is_bot:
            return now + int(session.think_ms * (0.7 + 0.6 * random_()))
        end = BOUNCE_RATE if session.event_count == 1 else END_AFTER[session.last_event_type]
        if random_() < end:
            return 0
        think = math.exp(THINK_LOG_MEDIAN + THINK_LOG_SIGMA * self.rng.gauss())
        return now + int(min(max(think, THINK_MIN_MS), THINK_MAX_MS))

    def _retire(self, session: Session, now: int) -> None:
        """A finished human session's user may come back after the inactivity gap."""
        if session.is_bot:
            return
        self._resting.append((now + self._gap_ms + self.rng.randrange(60_000), session.user))
        returning = self._returning
        if len(returning) > MAX_RETURNING_POOL:
            index = self.rng.randrange(len(returning))
            returning[index] = returning[-1]
            returning.pop()

    def _next_action(self, session: Session) -> str:
        rng = self.rng
        last = session.last_event_type
        if last is None:
            if session.is_bot:
                return PAGE_VIEW
            return PRODUCT_VIEW if rng.random() < LANDING_PRODUCT_SHARE else PAGE_VIEW
        if session.is_bot:
            return PRODUCT_VIEW if rng.random() < 0.8 else PAGE_VIEW
        if session.cart:
            draw = rng.random()
            purchase = PURCHASE_AFTER[last]
            if draw < purchase:
                return PURCHASE
            if last == ADD_TO_CART and draw < purchase + REMOVE_AFTER_ADD:
                return REMOVE_FROM_CART
        draw = rng.random()
        if last == PRODUCT_VIEW:
            cart_rate = self._cart_rates.get(session.last_product.product_id, CART_RATE)
            if draw < cart_rate:
                return ADD_TO_CART
            draw = rng.random()
        return PRODUCT_VIEW if draw < 0.7 else PAGE_VIEW

    # ----------------------------------------------------------------------------- events

    def _session_event(self, session: Session, event_at: int) -> dict:
        rng = self.rng
        event_type = self._next_action(session)
        user = session.user
        first = session.event_count == 0
        referrer = session.last_url
        query = ""
        if first:
            landing_cum = self._landing_cum
            _, referrer, query = LANDINGS[
                bisect.bisect(landing_cum, rng.random() * landing_cum[-1])
            ]
        event = {
            "event_id": self._uuid(),
            "event_type": event_type,
            "event_at": self._ts(event_at),
            "user_id": user.user_id,
            "session_id": session.session_id,
        }
        if event_type == PRODUCT_VIEW:
            product = self._pick_product(session)
            session.last_product = product
            if not query and rng.random() < 0.3:
                query = "?ref=listing" if session.last_url else "?ref=recommendation"
            page_url = product.url + query
            event.update(product.fields)
        elif event_type == PAGE_VIEW:
            page_url = self._page_url(session, query)
        elif event_type == ADD_TO_CART:
            product = session.last_product
            quantity = 1 if rng.random() < 0.82 else rng.choice((2, 2, 3))
            line = session.cart.get(product.product_id)
            if line is None:
                session.cart[product.product_id] = [product, quantity]
            else:
                line[1] += quantity
            page_url = session.last_url or product.url
            event.update(product.fields)
            event["quantity"] = quantity
        elif event_type == REMOVE_FROM_CART:
            product, quantity = session.cart.pop(rng.choice(list(session.cart)))
            page_url = SHOP_URL + "/cart"
            event.update(product.fields)
            event["quantity"] = quantity
        else:
            event["order"] = {
                "order_id": self._uuid(),
                "currency": CURRENCY,
                "items": [
                    {
                        "product_id": product.product_id,
                        "category": product.category,
                        "brand": product.brand,
                        "quantity": quantity,
                        "unit_price": product.price,
                    }
                    for product, quantity in session.cart.values()
                ],
            }
            session.cart.clear()
            page_url = SHOP_URL + "/checkout/confirmation"
            referrer = SHOP_URL + "/checkout"
        self._add_client_fields(event, session.device_type, session.browser, page_url, referrer)
        if session.extra is not None:
            event.update(session.extra)
        session.event_count += 1
        session.last_event_type = event_type
        session.last_event_ms = event_at
        session.last_url = page_url
        return event

    def _pick_product(self, session: Session | None) -> Product:
        rng = self.rng
        draw = rng.random()
        if draw < self._picked_share:
            if draw < self._hot_share:
                return self.hot_product
            index = int((draw - self._hot_share) / self._featured_share)
            return self._featured[min(index, len(self._featured) - 1)]
        last_url = session.last_url if session is not None else None
        if last_url is not None and rng.random() < CATEGORY_AFFINITY:
            listing = self._by_category.get(last_url.partition("?")[0])
            if listing:
                return self._pick(listing)
        others_cum = self._others_cum
        return self._others[bisect.bisect(others_cum, rng.random() * others_cum[-1])]

    def _page_url(self, session: Session, query: str) -> str:
        rng = self.rng
        draw = rng.random()
        if session.is_bot:
            return f"{self._pick(self._category_urls)}?page={rng.randint(1, 40)}"
        if session.event_count == 0 and draw < 0.5:
            return f"{SHOP_URL}/{query}"
        if draw < 0.75:
            category_url = self._pick(self._category_urls)
            if query:
                return category_url + query
            return f"{category_url}?sort={self._pick(('popular', 'price_asc', 'new'))}"
        term = self._pick(SEARCH_TERMS)
        return f"{SHOP_URL}/search?q={term}" + (query.replace("?", "&") if query else "")

    @staticmethod
    def _add_client_fields(
        event: dict, device: str | None, browser: str | None, page_url: str, referrer: str | None
    ) -> None:
        if device is not None:
            event["device_type"] = device
        if browser is not None:
            event["browser"] = browser
        event["page_url"] = page_url
        event["referrer"] = referrer
        event["source"] = SOURCE_SIMULATOR

    # ----------------------------------------------------------------------------- faults

    def _duplicate(self, now: int) -> Record | None:
        """Re-send one of the last records whose event time is still within 1.5 s of now."""
        floor = now - (MAX_DISORDER_MS - 500)
        candidates = [entry for entry in self._recent if entry[0] >= floor]
        if not candidates:
            return None
        rng = self.rng
        _, key, value, event_id = rng.choice(candidates)
        partition = None
        if rng.random() < self.config.duplicate_other_partition_share:
            partition = other_partition(key, self.config.partitions, rng)
        return Record(key, value, partition, DUPLICATE, None, event_id)

    def _late_event(self, now: int) -> dict:
        """A browse event a phone kept offline: older than late_by and than the run's start."""
        newest = min(now - self._late_by_ms, self.start_ms) - 1_000
        event_at = newest - self.rng.randrange(self._late_by_ms // 2)
        event_type = PRODUCT_VIEW if self.rng.random() < 0.6 else PAGE_VIEW
        return self._standalone_event(event_type, event_at)

    def _malformed(self, now: int) -> Record:
        rng = self.rng
        reason = rng.choice(REASONS)
        event_type = rng.choice(REASON_EVENT_TYPES[reason] or EVENT_TYPES)
        event = self._standalone_event(event_type, now)
        key = event["user_id"]
        value, event_id = corrupt(event, reason, rng)
        return Record(key, value, None, MALFORMED, reason, event_id)

    def _standalone_event(self, event_type: str, event_at: int) -> dict:
        """A valid event outside the simulated sessions (late and malformed records)."""
        rng = self.rng
        user = rng.choice(self._returning) if self._returning else self._new_user(rng)
        event = {
            "event_id": self._uuid(),
            "event_type": event_type,
            "event_at": format_event_at(event_at),
            "user_id": user.user_id,
            "session_id": self._uuid(),
        }
        product = self._pick_product(None)
        page_url = product.url
        if event_type == PAGE_VIEW:
            page_url = product.category_url
        elif event_type == PURCHASE:
            event["order"] = {
                "order_id": self._uuid(),
                "currency": CURRENCY,
                "items": [
                    {
                        "product_id": item.product_id,
                        "category": item.category,
                        "brand": item.brand,
                        "quantity": rng.randint(1, 2),
                        "unit_price": item.price,
                    }
                    for item in [product, *rng.sample(self._others, rng.randint(0, 2))]
                ],
            }
            page_url = SHOP_URL + "/checkout/confirmation"
        else:
            event.update(product.fields)
            if event_type != PRODUCT_VIEW:
                event["quantity"] = 1
        self._add_client_fields(event, user.device_type, user.browser, page_url, None)
        return event

    # ----------------------------------------------------------------------------- helpers

    def _new_user(self, rng: random.Random) -> User:
        random_ = rng.random
        devices, browsers = self._devices, self._browsers
        return User(
            f"U{rng.getrandbits(48):012x}",
            devices[int(random_() * len(devices))],
            browsers[int(random_() * len(browsers))],
        )

    def _known_users(self, count: int) -> list[User]:
        """The shop's existing customers: the same ids in every run."""
        rng = random.Random(f"customers-{count}")
        return [self._new_user(rng) for _ in range(count)]

    def _pick(self, options: Sequence[T]) -> T:
        """rng.choice without its rejection sampling (a bias below 1e-12 for our sizes)."""
        return options[int(self._random() * len(options))]

    def _uuid(self) -> str:
        value = "%032x" % ((self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET)
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"

    def _ts(self, epoch_ms: int) -> str:
        second, millis = divmod(epoch_ms, 1000)
        if second != self._ts_second:
            self._ts_second = second
            self._ts_prefix = format_event_at(second * 1000)[:19]
        return f"{self._ts_prefix}.{millis:03d}Z"


def simulate(config: GeneratorConfig, count: int | None = None) -> Iterator[Record]:
    """The records of a simulated run (see Simulation)."""
    return Simulation(config).records(count)


def _cart_rate(purchase_rate: float) -> float:
    """The add_to_cart rate after a view that gives `purchase_rate` purchases per view."""
    return min(1.0, purchase_rate / PURCHASES_PER_CART_RATE)


def _flatten(groups: tuple[tuple[float, tuple[str | None, ...]], ...]) -> list[str | None]:
    """A 1,000-slot lookup table: each spelling's share follows its group's weight."""
    table: list[str | None] = []
    for weight, spellings in groups:
        slots = round(weight * 1000)
        table.extend(spellings[index % len(spellings)] for index in range(slots))
    return table
