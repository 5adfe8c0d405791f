"""The medallion pipeline on the real stack, checked against the generator's ground truth.

A seeded run with duplicates, out-of-order, late and malformed records goes through Kafka and both
Flink jobs (bounded reads, so the final watermark closes every window). Every gold table, every
column the DDL declares, must then equal the oracle's recomputation (tests/oracle.py) from the
ground truth's silver events, with the config's window size and thresholds; and the accounting
bronze = silver + quarantine + late + duplicates must hold record by record, with the counts the
ground truth's labels give."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import oracle
import pytest
from support import dbt_build, produce

from generator.contract import format_event_at, to_epoch_ms
from generator.ground_truth import (
    expected_layer_counts,
    expected_silver_events,
    load_ground_truth,
)
from generator.model import GeneratorConfig, Record
from generator.simulate import simulate
from pipeline import deploy, lake, lake_schema
from stack.config import Config

pytestmark = pytest.mark.integration

# The rules themselves are tested case by case without a broker (tests/flink_logic/, including
# a seeded simulation and the REES46 sample); this run proves the deployed parts fit together.
RECORDS = 5_000


def session_edges(config: Config) -> list[Record]:
    """Valid events after the simulation's, in event-time order, at the sessions' edges: a gap of
    exactly the timeout (two sessions), one of 1 ms less (one), a session across midnight with a
    purchase (dated by its start)."""
    timeout = timedelta(minutes=config.session_timeout_minutes)
    ms = timedelta(milliseconds=1)
    evening = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
    midnight = datetime(2026, 11, 2, tzinfo=UTC)
    events = [
        ("U-edge-exact", "page_view", evening),
        ("U-edge-exact", "page_view", evening + timeout),
        ("U-edge-1ms", "page_view", evening),
        ("U-edge-1ms", "product_view", evening + timeout - ms),
        ("U-midnight", "product_view", midnight - timedelta(minutes=10)),
        ("U-midnight", "add_to_cart", midnight + timedelta(minutes=5)),
        ("U-midnight", "purchase", midnight + timedelta(minutes=15)),
    ]
    ids = itertools.count(1)
    records = []
    for user_id, event_type, at in sorted(events, key=lambda event: event[2]):
        event_id = f"session-edge-{next(ids)}"
        payload: dict[str, Any] = {
            "event_id": event_id,
            "event_type": event_type,
            "event_at": format_event_at(to_epoch_ms(at)),
            "user_id": user_id,
            "device_type": "tablet",
        }
        if event_type != "page_view":
            payload.update(product_id="P00001", category="toys", price=12.5)
        if event_type == "purchase":
            items = [
                {"product_id": "P00001", "category": "toys", "quantity": 2, "unit_price": 12.5}
            ]
            payload["order"] = {"order_id": f"O-{event_id}", "currency": "USD", "items": items}
        records.append(Record(user_id, json.dumps(payload).encode(), None, None, None, event_id))
    return records


def run_pipeline(config: Config) -> None:
    """Both jobs, bounded by what the topic holds now; returns once they finished."""
    for job in ("bronze", "silver_gold"):
        job_id, started = deploy.submit(config, job)
        assert started
        state = deploy.wait_for_state(config, job_id, {"FINISHED", "FAILED", "CANCELED"}, 300)
        assert state == "FINISHED", f"{job} ended {state}"


def table_rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    """The stored columns of a lake table's committed rows, as dicts ([] without files)."""
    if table not in {
        row[0] for row in connection.execute("select view_name from duckdb_views()").fetchall()
    }:
        return []
    columns = [column.name for column in lake_schema.lake_tables()[table].row_columns]
    result = connection.execute(f"select {', '.join(columns)} from {table}").fetchall()
    return [dict(zip(columns, row, strict=True)) for row in result]


def comparable(rows: list[dict[str, Any]], columns: list[str]) -> list[tuple]:
    """Rows as sorted tuples; doubles to 12 decimals (Flink and Python may differ in the last
    bit of a computed double)."""
    return sorted(
        (
            tuple(round(row[c], 12) if isinstance(row[c], float) else row[c] for c in columns)
            for row in rows
        ),
        key=repr,
    )


def assert_gold_matches_ground_truth(
    connection: duckdb.DuckDBPyConnection, events: list[dict], config: Config
) -> None:
    expected = oracle.expected_gold(*oracle.silver_from_payloads(events), config)
    for name, table in lake_schema.lake_tables().items():
        if not name.startswith("gold_"):
            continue
        columns = [column.name for column in table.row_columns]
        got = comparable(table_rows(connection, name), columns)
        want = comparable(expected[name], columns)
        assert got == want, f"{name}: {len(got)} rows vs {len(want)} expected"


def assert_accounting_identity(connection: duckdb.DuckDBPyConnection, records) -> None:
    counts = expected_layer_counts(records)
    accounting = oracle.accounting(
        *(table_rows(connection, table) for table in
          ("bronze_events", "silver_events", "quarantine_events", "late_events"))
    )  # fmt: skip
    assert accounting.is_balanced, accounting
    assert (
        accounting.bronze,
        accounting.silver,
        accounting.quarantine_by_reason,
        accounting.late,
        accounting.duplicates,
    ) == (counts.bronze, counts.silver, counts.quarantine_by_reason, counts.late, counts.duplicates)


def test_seeded_run_matches_ground_truth(pipeline_config: Config, tmp_path):
    generator = GeneratorConfig(
        seed=20261122,
        start_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        sim_rate=100.0,
        bot_rate=0.02,
        late_after_fraction=0.5,  # every partition has set the watermark long before
    )
    truth = tmp_path / "truth.jsonl"
    produce(
        pipeline_config,
        itertools.chain(simulate(generator, RECORDS), session_edges(pipeline_config)),
        truth,
    )
    records = load_ground_truth(truth)
    faults = Counter(record.fault for record in records)
    assert all(faults[name] > 0 for name in ("duplicate", "out_of_order", "late", "malformed"))

    run_pipeline(pipeline_config)
    actual = lake.connect(pipeline_config.lake_root)

    assert_accounting_identity(actual, records)
    events = expected_silver_events(records)
    silver_ids = {row[0] for row in actual.execute("select event_id from silver_events").fetchall()}
    assert silver_ids == {event["event_id"] for event in events}
    late_ids = {row[0] for row in actual.execute("select event_id from late_events").fetchall()}
    assert late_ids == {record.event_id for record in records if record.fault == "late"}
    assert actual.execute("select count(*) from gold_bot_suspects").fetchone()[0] > 0
    assert_gold_matches_ground_truth(actual, events, pipeline_config)

    items = actual.execute(
        "select count(*), sum(line_total) = sum(quantity * unit_price) from silver_order_items"
    ).fetchone()
    want_items = sum(len(e["order"]["items"]) for e in events if e["event_type"] == "purchase")
    assert items == (want_items, True)

    sessions = actual.execute("select user_id, cast(dt as varchar) from gold_sessions").fetchall()
    edges = Counter(user for user, _ in sessions if user.startswith("U-"))
    assert edges == {"U-edge-exact": 2, "U-edge-1ms": 1, "U-midnight": 1}
    assert ("U-midnight", "2026-11-01") in sessions

    # The batch side builds on this lake: every mart and every dbt test, reconciliation included.
    output = dbt_build(pipeline_config.lake_root, tmp_path).replace(" ", "")
    assert "ERROR=0" in output and "WARN=0" in output, output[-3000:]
    assert_sessions_mart_equals_gold(actual, tmp_path / "clickstream.duckdb")


def assert_sessions_mart_equals_gold(lake_connection: duckdb.DuckDBPyConnection, warehouse) -> None:
    """dbt's sessions mart holds exactly the stream's sessions: the run is bounded, so its final
    watermark closed every session."""
    columns = [
        name
        for name in lake_schema.lake_tables()["gold_sessions"].column_names
        if name != "closed_at"
    ]
    stored = ["cast(dt as varchar) as dt" if name == "dt" else name for name in columns]
    got = lake_connection.execute(f"select {', '.join(stored)} from gold_sessions").fetchall()
    gold = comparable([dict(zip(columns, row, strict=True)) for row in got], columns)
    with duckdb.connect(str(warehouse), read_only=True) as mart:
        selected = [
            "strftime(session_date, '%Y-%m-%d') as dt" if column == "dt" else column
            for column in columns
        ]
        rows = mart.execute(f"select {', '.join(selected)} from main.sessions").fetchall()
    assert gold == comparable([dict(zip(columns, row, strict=True)) for row in rows], columns)
