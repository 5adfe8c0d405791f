"""The event generator, without Kafka: invariants over thousands of simulated records, the
labelled faults, determinism, the ground truth, the REES46 replay mapping, and where the CLI
sends (the typed config, flags overriding; an unreachable broker is an error, on a free port).

The contract checks (`contract_violations`) are written from docs/events.md, independently of
the generator's code, so a generator bug cannot hide behind its own helpers.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator.cli import generate, replay
from generator.contract import (
    MAX_ORDER_TOTAL,
    MAX_PRICE,
    MAX_QUANTITY,
    REASONS,
    format_event_at,
    parse_event_at,
    standardize_browser,
    standardize_device_type,
)
from generator.faults import default_partition, murmur2
from generator.ground_truth import (
    GroundTruthWriter,
    expected_layer_counts,
    expected_silver_events,
    load_ground_truth,
    load_summary,
)
from generator.model import GeneratorConfig, Record
from generator.produce import LibrdkafkaLog
from generator.rees46 import replay_records
from generator.simulate import Simulation, simulate
from stack.processes import free_ports

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)
COUNT = 20_000
CONFIG = GeneratorConfig(
    seed=1234,
    start_at=START,
    sim_rate=100.0,
    duplicate_rate=0.02,
    out_of_order_rate=0.03,
    late_rate=0.02,
    malformed_rate=0.03,
    bot_rate=0.005,
)
REES46_SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "rees46-2019-10-sample.csv"
)

EVENT_TYPES = {"page_view", "product_view", "add_to_cart", "remove_from_cart", "purchase"}
PRODUCT_TYPES = {"product_view", "add_to_cart", "remove_from_cart"}
CART_TYPES = {"add_to_cart", "remove_from_cart"}
EVENT_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


# ------------------------------------------------------------------------------ contract


def contract_violations(value: bytes | str) -> list[str]:
    """Every quarantine reason a payload deserves under docs/events.md (empty = valid)."""
    try:
        event = json.loads(value)
    except ValueError:
        return ["invalid_json"]
    if not isinstance(event, dict):
        return ["invalid_json"]
    found = []
    event_type = event.get("event_type")
    if _missing(event, "event_id"):
        found.append("missing_event_id")
    if _missing(event, "event_type"):
        found.append("missing_event_type")
    elif event_type not in EVENT_TYPES:
        found.append("unknown_event_type")
    if _missing(event, "event_at"):
        found.append("missing_event_at")
    elif not _is_event_at(event["event_at"]):
        found.append("invalid_event_at")
    if _missing(event, "user_id"):
        found.append("missing_user_id")
    if event_type in PRODUCT_TYPES:
        if _missing(event, "product_id"):
            found.append("missing_product_id")
        if not _is_positive_number(event.get("price")):
            found.append("invalid_price")
    quantity = event.get("quantity")
    if event_type in CART_TYPES and quantity is not None and not _is_positive_int(quantity):
        found.append("invalid_quantity")
    if event_type == "purchase":
        order = event.get("order")
        if not isinstance(order, dict):
            found.append("missing_order")
        elif not _are_valid_items(order.get("items")):
            found.append("invalid_order_item")
    if not found and _beyond_limits(event):
        found.append("amount_out_of_range")
    return found


def _beyond_limits(event: dict) -> bool:
    """A valid event with an amount above the contract's limits (docs/events.md)."""
    event_type = event["event_type"]
    if event_type in PRODUCT_TYPES and Decimal(str(event["price"])) > MAX_PRICE:
        return True
    if event_type in CART_TYPES and (event.get("quantity") or 1) > MAX_QUANTITY:
        return True
    if event_type != "purchase":
        return False
    items = event["order"]["items"]
    lines = [item["quantity"] * Decimal(str(item["unit_price"])) for item in items]
    return (
        max(item["quantity"] for item in items) > MAX_QUANTITY
        or max(Decimal(str(item["unit_price"])) for item in items) > MAX_PRICE
        or sum(lines) > MAX_ORDER_TOTAL
    )


def _missing(event: dict, name: str) -> bool:
    return event.get(name) in (None, "")


def _is_event_at(value: object) -> bool:
    if not isinstance(value, str) or not EVENT_AT.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def _is_positive_number(value: object) -> bool:
    """A JSON number > 0 with at most two decimals."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value > 0
        and Decimal(str(value)).as_tuple().exponent >= -2
    )


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _are_valid_items(items: object) -> bool:
    return (
        isinstance(items, list)
        and len(items) > 0
        and all(
            isinstance(item, dict)
            and not _missing(item, "product_id")
            and _is_positive_int(item.get("quantity"))
            and _is_positive_number(item.get("unit_price"))
            for item in items
        )
    )


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def run() -> tuple[Simulation, list[Record]]:
    simulation = Simulation(CONFIG)
    return simulation, list(simulation.records(COUNT))


@pytest.fixture(scope="module")
def records(run) -> list[Record]:
    return run[1]


@pytest.fixture(scope="module")
def valid_events(records) -> list[dict]:
    """Events silver keeps, in production order: valid, on time, first of their event_id."""
    return [json.loads(r.value) for r in records if r.fault in (None, "out_of_order")]


def stream_time(seq: int, config: GeneratorConfig = CONFIG) -> int:
    """Simulated time (epoch ms) at which record `seq` is produced."""
    return START_MS + int(seq * 1000 / config.sim_rate)


def assert_rate_close(observed: int, trials: int, rate: float) -> None:
    """Within 4.5 binomial standard deviations of the configured rate."""
    expected = trials * rate
    tolerance = 4.5 * math.sqrt(trials * rate * (1 - rate))
    assert abs(observed - expected) <= tolerance, (observed, expected, tolerance)


# ------------------------------------------------------------------------------ contract


def test_every_unlabelled_record_meets_the_contract(records):
    valid = [r for r in records if r.fault != "malformed"]
    assert len(valid) > 0.9 * COUNT
    for record in valid:
        assert contract_violations(record.value) == [], record
        event = json.loads(record.value)
        assert record.key == event["user_id"]
        assert record.event_id == event["event_id"]
        assert uuid.UUID(event["event_id"]).version == 4
        assert event["source"] == "simulator"
        assert event["page_url"].startswith("https://shop.example.com/")
        assert event["referrer"] is None or event["referrer"].startswith("https://")
        for price in [event.get("price")] + [
            item["unit_price"] for item in event.get("order", {}).get("items", [])
        ]:
            assert price is None or round(price, 2) == price


def test_every_malformed_record_fails_with_exactly_its_labelled_reason(records):
    malformed = [r for r in records if r.fault == "malformed"]
    for record in malformed:
        assert contract_violations(record.value) == [record.reason], record
        if record.reason == "invalid_json":
            with pytest.raises(ValueError):
                json.loads(record.value)
            assert record.event_id is None
        elif record.reason != "missing_event_id":
            assert json.loads(record.value)["event_id"] == record.event_id
    assert {r.reason for r in malformed} == set(REASONS)


def test_only_injected_duplicates_repeat_an_event_id(records):
    seen: dict[str, Record] = {}
    for seq, record in enumerate(records):
        if record.event_id is None:
            continue
        if record.fault == "duplicate":
            original = seen[record.event_id]
            assert (record.key, record.value) == (original.key, original.value)
            # re-sent while its event time is still within 2 s of the stream: not late
            event_at = parse_event_at(json.loads(record.value)["event_at"])
            assert event_at >= stream_time(seq) - 2_000
        else:
            assert record.event_id not in seen, record
            seen[record.event_id] = record


def test_some_duplicates_go_explicitly_to_another_partition(records):
    duplicates = [r for r in records if r.fault == "duplicate"]
    explicit = [r for r in duplicates if r.partition is not None]
    assert 0.15 * len(duplicates) < len(explicit) < 0.5 * len(duplicates)
    for record in explicit:
        assert record.partition != default_partition(record.key, CONFIG.partitions)
        assert 0 <= record.partition < CONFIG.partitions
    assert all(r.partition is None for r in records if r.fault != "duplicate")


def test_fault_rates_match_the_configuration(records):
    faults = Counter(r.fault for r in records)
    late_from = math.ceil(COUNT * CONFIG.late_after_fraction)
    assert_rate_close(faults["duplicate"], COUNT, CONFIG.duplicate_rate)
    assert_rate_close(faults["out_of_order"], COUNT, CONFIG.out_of_order_rate)
    assert_rate_close(faults["malformed"], COUNT, CONFIG.malformed_rate)
    assert_rate_close(faults["late"], COUNT - late_from, CONFIG.late_rate)


def test_zero_fault_rates_give_a_clean_stream():
    config = GeneratorConfig(
        seed=9,
        start_at=START,
        duplicate_rate=0,
        out_of_order_rate=0,
        late_rate=0,
        malformed_rate=0,
    )
    assert {r.fault for r in simulate(config, 5_000)} == {None}


def test_out_of_order_events_trail_the_stream_by_less_than_two_seconds(records):
    newest = 0
    out_of_order = 0
    for seq, record in enumerate(records):
        if record.fault in ("malformed", "duplicate", "late"):
            continue
        event_at = parse_event_at(json.loads(record.value)["event_at"])
        if record.fault == "out_of_order":
            out_of_order += 1
            assert event_at < newest  # really out of order
            assert stream_time(seq) - 2_000 < event_at
        else:
            assert event_at == stream_time(seq)  # the simulated clock: one tick per record
        newest = max(newest, event_at)
    assert out_of_order > 0


def test_late_events_are_behind_late_by_and_the_run_start(records):
    late_by_ms = CONFIG.late_by.total_seconds() * 1000
    late = [(seq, r) for seq, r in enumerate(records) if r.fault == "late"]
    assert late
    for seq, record in late:
        assert seq >= COUNT * CONFIG.late_after_fraction
        event_at = parse_event_at(json.loads(record.value)["event_at"])
        assert event_at <= stream_time(seq) - late_by_ms
        assert event_at < START_MS


# ------------------------------------------------------------------------------ behaviour


def test_funnel_order_holds_within_every_session(valid_events):
    sessions: dict[str, list[dict]] = defaultdict(list)
    for event in valid_events:
        sessions[event["session_id"]].append(event)
    purchases = 0
    for events in sessions.values():
        times = [parse_event_at(event["event_at"]) for event in events]
        assert times == sorted(times) and len(set(times)) == len(times)
        viewed: set[str] = set()
        cart: Counter[str] = Counter()
        for event in events:
            kind = event["event_type"]
            if kind == "product_view":
                viewed.add(event["product_id"])
            elif kind == "add_to_cart":
                assert event["product_id"] in viewed
                cart[event["product_id"]] += event["quantity"]
            elif kind == "remove_from_cart":
                assert cart[event["product_id"]] >= event["quantity"] > 0
                cart[event["product_id"]] -= event["quantity"]
            elif kind == "purchase":
                purchases += 1
                items = {i["product_id"]: i["quantity"] for i in event["order"]["items"]}
                assert items == +cart  # exactly what is in the cart, added in this session
                cart.clear()
    assert purchases > 50


def test_purchases_carry_orders_with_positive_totals(valid_events):
    orders = [event["order"] for event in valid_events if event["event_type"] == "purchase"]
    assert orders
    assert len({order["order_id"] for order in orders}) == len(orders)
    for order in orders:
        assert order["currency"] == "USD"
        assert order["items"]
        total = sum(item["quantity"] * item["unit_price"] for item in order["items"])
        assert total > 0
        assert len({item["product_id"] for item in order["items"]}) == len(order["items"])


def test_funnel_converts_realistically(valid_events):
    types = Counter(event["event_type"] for event in valid_events)
    assert types["product_view"] > types["add_to_cart"] > types["purchase"] > 0
    assert types["add_to_cart"] > types["remove_from_cart"] > 0
    assert 0.03 < types["add_to_cart"] / types["product_view"] < 0.2
    assert 0.2 < types["purchase"] / types["add_to_cart"] < 0.8


def test_the_hot_product_draws_views_but_rarely_sells(run, valid_events):
    simulation, _ = run
    hot = simulation.hot_product.product_id
    views = Counter(e["product_id"] for e in valid_events if e["event_type"] == "product_view")
    sold = Counter(
        item["product_id"]
        for event in valid_events
        if event["event_type"] == "purchase"
        for item in event["order"]["items"]
    )
    assert views.most_common(1)[0][0] == hot
    assert 0.17 < views[hot] / views.total() < 0.23
    hot_rate = sold[hot] / views[hot]
    other_rate = (sold.total() - sold[hot]) / (views.total() - views[hot])
    assert hot_rate < 0.02
    assert other_rate > 2.5 * hot_rate


def test_bots_far_exceed_fifty_events_a_minute_and_humans_never_do(run, valid_events):
    simulation, _ = run
    bots = set(simulation.bot_user_ids)
    per_minute = Counter((e["user_id"], e["event_at"][:16]) for e in valid_events)
    busiest: dict[str, int] = defaultdict(int)
    for (user_id, _), events in per_minute.items():
        busiest[user_id] = max(busiest[user_id], events)
    assert bots
    assert {user for user, events in busiest.items() if events > 50} <= bots
    assert max(busiest[bot] for bot in bots) > 100
    assert max(events for user, events in busiest.items() if user not in bots) <= 30


def test_users_return_in_new_sessions_after_an_inactivity_gap():
    config = GeneratorConfig(seed=77, start_at=START, sim_rate=2.0, bot_rate=0, known_users=200)
    events = [json.loads(r.value) for r in simulate(config, 12_000) if r.fault is None]
    sessions: dict[str, list[int]] = defaultdict(list)
    user_of: dict[str, str] = {}
    for event in events:
        sessions[event["session_id"]].append(parse_event_at(event["event_at"]))
        user_of[event["session_id"]] = event["user_id"]
    by_user: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for session_id, times in sessions.items():
        assert all(b - a < 30 * 60_000 for a, b in itertools.pairwise(times))
        by_user[user_of[session_id]].append((times[0], times[-1]))
    returning = [spans for spans in by_user.values() if len(spans) > 1]
    assert len(returning) > 10
    for spans in returning:
        spans.sort()
        for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
            assert next_start - previous_end >= 30 * 60_000


def test_known_customers_appear_in_runs_with_different_seeds():
    def users(seed: int) -> set[str]:
        config = GeneratorConfig(seed=seed, start_at=START, known_users=1_000)
        return {r.key for r in simulate(config, 5_000) if r.fault is None}

    first, second = users(1), users(2)
    shared = first & second
    assert 50 < len(shared) < 0.5 * len(first)  # returning customers, and new visitors


def test_devices_and_browsers_are_messy_but_standardize_to_every_class(valid_events):
    devices = Counter(e.get("device_type") for e in valid_events)
    browsers = Counter(e.get("browser") for e in valid_events)
    assert {standardize_device_type(raw) for raw in devices} == {
        "desktop",
        "mobile",
        "tablet",
        "unknown",
    }
    assert {standardize_browser(raw) for raw in browsers} == {
        "chrome",
        "firefox",
        "safari",
        "edge",
        "other",
        "unknown",
    }
    assert len(devices) > 12 and len(browsers) > 15
    with_query = sum("?" in e["page_url"] for e in valid_events)
    assert 0.2 * len(valid_events) < with_query < len(valid_events)


@pytest.mark.parametrize(
    ("raw", "device"),
    [
        (" Mobile ", "mobile"),
        ("phone", "mobile"),
        ("smartphone", "mobile"),
        ("PC", "desktop"),
        ("Desktop", "desktop"),
        ("iPad", "tablet"),
        ("tablet", "tablet"),
        ("smart-tv", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_device_standardization(raw, device):
    assert standardize_device_type(raw) == device


@pytest.mark.parametrize(
    ("raw", "browser"),
    [
        ("Chrome 119", "chrome"),
        ("CHROME", "chrome"),
        ("Mozilla/5.0 AppleWebKit/537.36 Chrome/119.0.0.0 Safari/537.36 Edg/119.0", "edge"),
        ("Mozilla/5.0 AppleWebKit/537.36 Chrome/119.0.0.0 Safari/537.36", "chrome"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "firefox"),
        ("Safari", "safari"),
        ("Opera", "other"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_browser_standardization(raw, browser):
    assert standardize_browser(raw) == browser


# ------------------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_records_and_another_seed_does_not():
    first = list(simulate(CONFIG, 5_000))
    assert list(simulate(CONFIG, 5_000)) == first
    other = list(simulate(GeneratorConfig(**{**CONFIG.__dict__, "seed": 4321}), 5_000))
    assert [r.value for r in other] != [r.value for r in first]
    assert not {r.event_id for r in other if r.event_id} & {r.event_id for r in first}


def test_same_seed_gives_byte_identical_ground_truth(tmp_path):
    for name in ("a", "b"):
        with GroundTruthWriter(tmp_path / f"{name}.jsonl", {"seed": CONFIG.seed}) as writer:
            for record in simulate(CONFIG, 3_000):
                writer.write(record)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert load_summary(tmp_path / "a.jsonl") == load_summary(tmp_path / "b.jsonl")


def test_event_at_format_round_trips():
    assert format_event_at(START_MS + 123) == "2026-11-22T10:00:00.123Z"
    assert parse_event_at("2026-11-22T10:00:00.123Z") == START_MS + 123
    with pytest.raises(ValueError):
        parse_event_at("2026-11-22 10:00:00")


def test_murmur2_matches_kafka_java_client():
    # vectors of Kafka's UtilsTest.testMurmur2
    assert murmur2(b"21") == -973932308
    assert murmur2(b"foobar") == -790332482
    assert murmur2(b"a-little-bit-long-string") == -985981536
    assert murmur2(b"a-little-bit-longer-string") == -1486304829
    assert murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971
    assert murmur2(b"abc") == 479470107


# ------------------------------------------------------------------------------ ground truth


def test_ground_truth_lists_every_record_with_its_label(records, tmp_path):
    path = tmp_path / "truth.jsonl"
    with GroundTruthWriter(path, {"source": "simulator"}) as writer:
        for record in records:
            writer.write(record)
    loaded = load_ground_truth(path)
    assert [r.seq for r in loaded] == list(range(COUNT))
    assert [
        (r.key, r.value.encode(), r.partition, r.fault, r.reason, r.event_id) for r in loaded
    ] == [tuple(record) for record in records]
    summary = load_summary(path)
    faults = Counter(r.fault or "clean" for r in records)
    assert summary["records"] == COUNT
    assert summary["faults"] == {name: faults[name] for name in summary["faults"]}
    counts = expected_layer_counts(loaded)
    assert counts.bronze == COUNT
    assert counts.bronze == counts.silver + counts.quarantine + counts.late + counts.duplicates
    assert summary["expected"] == {
        "bronze": counts.bronze,
        "silver": counts.silver,
        "quarantine": counts.quarantine,
        "late": counts.late,
        "duplicates": counts.duplicates,
    }
    assert sum(counts.quarantine_by_reason.values()) == counts.quarantine
    silver_ids = [event["event_id"] for event in expected_silver_events(loaded)]
    assert len(silver_ids) == len(set(silver_ids)) == counts.silver


def test_cli_generate_dry_run_writes_the_ground_truth(tmp_path):
    app = typer.Typer()
    app.command()(generate)
    app.command()(replay)
    path = tmp_path / "truth.jsonl"
    args = ["generate", "--count", "500", "--dry-run", "--seed", "5"]
    args += ["--start-at", "2026-11-22T10:00:00Z", "--ground-truth", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    truth = load_ground_truth(path)
    assert len(truth) == 500
    config = GeneratorConfig(seed=5, start_at=START)
    assert [r.value.encode() for r in truth] == [r.value for r in simulate(config, 500)]
    summary = load_summary(path)
    assert summary["generator"]["seed"] == 5 and summary["hot_product_id"] == "P00001"

    bad = CliRunner().invoke(app, ["generate", "--dry-run"])  # no --count
    assert bad.exit_code == 2


# ------------------------------------------------------------- where to send: the typed config

REPO_ROOT = Path(__file__).resolve().parents[1]


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(generate)
    app.command()(replay)
    return app


def run_jobs_py(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "jobs.py"), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generate_stops_when_the_configured_kafka_is_unreachable():
    """No broker listens on the configured port: generate says where it looked and exits 2; it
    never falls back to another address (a user's other stack on 9092)."""
    (port,) = free_ports(1)
    result = run_jobs_py("generate", "--count", "1", environ={"CLICKSTREAM_KAFKA_PORT": str(port)})
    assert result.returncode == 2, result.stderr
    assert f"Kafka unreachable at 127.0.0.1:{port}: connection refused" in result.stderr
    assert "sent " not in result.stderr  # nothing was produced anywhere


def test_replay_flag_overrides_the_configured_bootstrap_servers(rees46_file):
    configured, flagged = free_ports(2)
    result = run_jobs_py(
        "replay",
        str(rees46_file),
        "--bootstrap-servers",
        f"127.0.0.1:{flagged}",
        environ={"CLICKSTREAM_KAFKA_PORT": str(configured)},
    )
    assert result.returncode == 2, result.stderr
    assert f"Kafka unreachable at 127.0.0.1:{flagged}: connection refused" in result.stderr
    assert str(configured) not in result.stderr


def test_dry_run_takes_topic_and_partitions_from_the_config(tmp_path):
    path = tmp_path / "truth.jsonl"
    args = ["generate", "--count", "50", "--dry-run", "--seed", "5", "--ground-truth", str(path)]
    environ = {"CLICKSTREAM_KAFKA_TOPIC": "shop.events", "CLICKSTREAM_KAFKA_PARTITIONS": "5"}
    result = CliRunner().invoke(cli_app(), args, env=environ)
    assert result.exit_code == 0, result.output
    summary = load_summary(path)
    assert (summary["topic"], summary["generator"]["partitions"]) == ("shop.events", 5)
    # flags win over the config
    result = CliRunner().invoke(
        cli_app(), [*args, "--topic", "flagged", "--partitions", "2"], env=environ
    )
    assert result.exit_code == 0, result.output
    summary = load_summary(path)
    assert (summary["topic"], summary["generator"]["partitions"]) == ("flagged", 2)


def test_a_bad_config_is_a_clear_error_not_a_default():
    result = CliRunner().invoke(
        cli_app(),
        ["generate", "--count", "1", "--dry-run"],
        env={"CLICKSTREAM_KAFKA_PORT": "ninety"},
    )
    assert result.exit_code == 2
    assert "kafka_port must be an integer" in result.output


@pytest.mark.parametrize(
    ("message", "is_shown"),
    [
        # a broker that has just started loads its coordinator; librdkafka retries
        ("Failed to acquire idempotence PID from broker 127.0.0.1:9092/1: Broker: Coordinator "
         "load in progress: retrying", False),
        ("Failed to acquire idempotence PID from broker 127.0.0.1:9092/1: Broker: Coordinator "
         "not available: retrying", False),
        # anything else is a real problem and stays visible
        ("Failed to acquire idempotence PID from broker 127.0.0.1:9092/1: Broker: Cluster "
         "authorization failed: retrying", True),
    ],
)  # fmt: skip
def test_librdkafka_log_hides_only_a_loading_coordinator(message, is_shown):
    shown: list[str] = []
    log = LibrdkafkaLog(write=shown.append)
    log.log(logging.WARNING, "%s [%s] %s", "GETPID", "rdkafka#producer-1", message)
    log.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#producer-1", "Connect failed")
    expected = [f"librdkafka warning: GETPID [rdkafka#producer-1] {message}"] if is_shown else []
    assert shown == [*expected, "librdkafka error: FAIL [rdkafka#producer-1] Connect failed"]
    assert log.suppressed == (0 if is_shown else 1)


# ------------------------------------------------------------------------------ REES46 replay

REES46_HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
REES46_ROWS = [
    "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,"
    "72d76fde-8bb3-4e00-8c23-a032dfed738c",
    "2019-10-01 00:00:05 UTC,cart,5100816,2053013553375346967,electronics.clocks,xiaomi,29.51,"
    "550121407,6f623695-9581-4633-813f-825b8760c7ae",
    "2019-10-01 00:00:09 UTC,remove_from_cart,5100816,2053013553375346967,electronics.clocks,"
    "xiaomi,29.51,550121407,6f623695-9581-4633-813f-825b8760c7ae",
    "2019-10-01 00:01:00 UTC,purchase,17200506,2053013559792632471,furniture.living_room.sofa,,"
    "543.10,519107250,566511c2-e2e3-422b-b695-cf8e6e792ca8",
]
REES46_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://rees46.com/open-cdp/clickstream")


@pytest.fixture
def rees46_file(tmp_path) -> Path:
    path = tmp_path / "rees46.csv"
    path.write_text("\n".join([REES46_HEADER, *REES46_ROWS]) + "\n")
    return path


def test_rees46_rows_map_onto_the_contract(rees46_file):
    events = [json.loads(r.value) for r in replay_records(rees46_file)]
    ids = [str(uuid.uuid5(REES46_NAMESPACE, f"{n}:{row}")) for n, row in enumerate(REES46_ROWS, 1)]
    assert events == [
        {
            "event_id": ids[0],
            "event_type": "product_view",
            "event_at": "2019-10-01T00:00:00.000Z",
            "user_id": "541312140",
            "session_id": "72d76fde-8bb3-4e00-8c23-a032dfed738c",
            "product_id": "44600062",
            "category": "category_2103807459595387724",
            "brand": "shiseido",
            "price": 35.79,
            "source": "rees46",
        },
        {
            "event_id": ids[1],
            "event_type": "add_to_cart",
            "event_at": "2019-10-01T00:00:05.000Z",
            "user_id": "550121407",
            "session_id": "6f623695-9581-4633-813f-825b8760c7ae",
            "product_id": "5100816",
            "category": "electronics.clocks",
            "brand": "xiaomi",
            "price": 29.51,
            "quantity": 1,
            "source": "rees46",
        },
        {
            "event_id": ids[2],
            "event_type": "remove_from_cart",
            "event_at": "2019-10-01T00:00:09.000Z",
            "user_id": "550121407",
            "session_id": "6f623695-9581-4633-813f-825b8760c7ae",
            "product_id": "5100816",
            "category": "electronics.clocks",
            "brand": "xiaomi",
            "price": 29.51,
            "quantity": 1,
            "source": "rees46",
        },
        {
            "event_id": ids[3],
            "event_type": "purchase",
            "event_at": "2019-10-01T00:01:00.000Z",
            "user_id": "519107250",
            "session_id": "566511c2-e2e3-422b-b695-cf8e6e792ca8",
            "order": {
                "order_id": str(uuid.uuid5(REES46_NAMESPACE, f"order:{ids[3]}")),
                "currency": "USD",
                "items": [
                    {
                        "product_id": "17200506",
                        "category": "furniture.living_room.sofa",
                        "quantity": 1,
                        "unit_price": 543.1,
                    }
                ],
            },
            "source": "rees46",
        },
    ]
    assert [r.key for r in replay_records(rees46_file)] == [e["user_id"] for e in events]


def test_rees46_shift_moves_the_first_event_to_the_given_time(rees46_file):
    target = START_MS + 250
    times = [
        parse_event_at(json.loads(r.value)["event_at"])
        for r in replay_records(rees46_file, shift_to_ms=target)
    ]
    assert times == [target, target + 5_000, target + 9_000, target + 60_000]


def test_rees46_speedup_paces_by_event_time(rees46_file):
    clock = [0.0]
    sent_at = []

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    for _ in replay_records(rees46_file, speedup=10, sleep=sleep, clock=lambda: clock[0]):
        sent_at.append(clock[0])
    assert sent_at == pytest.approx([0.0, 0.5, 0.9, 6.0])


def test_rees46_sample_replays_all_rows_idempotently():
    records = list(replay_records(REES46_SAMPLE))
    assert len(records) == 1_000
    events = [json.loads(r.value) for r in records]
    assert Counter(e["event_type"] for e in events) == {
        "product_view": 987,
        "add_to_cart": 3,
        "purchase": 10,
    }
    assert all(contract_violations(r.value) == [] for r in records)
    assert len({r.event_id for r in records}) == 1_000
    assert [r.value for r in replay_records(REES46_SAMPLE)] == [r.value for r in records]
    purchases = [e for e in events if e["event_type"] == "purchase"]
    assert all(len(e["order"]["items"]) == 1 for e in purchases)
    assert all(e["order"]["items"][0]["quantity"] == 1 for e in purchases)
    first = events[0]["event_at"]
    assert first == "2019-10-01T00:00:00.000Z"
    assert (
        parse_event_at(events[-1]["event_at"]) - parse_event_at(first)
        < timedelta(minutes=18).total_seconds() * 1000
    )
