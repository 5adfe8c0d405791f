"""Hostile input on the real stack: every record of tests/hostile_payloads.py goes through Kafka
and both Flink jobs (bounded reads), and each one must end where the contract says, with both
jobs FINISHED and no restart on the way.

One run per batch of the corpus serves every case (the invalid UTF-8 records get a lake of their
own, so what they do to a table's readers cannot hide the other cases; a REES46 file replayed
twice gets another): the records go to a fresh single-partition topic whose watermark advances
after every record (production order is then event-time order and lateness is exact), both jobs
read it to the end, and each `test_hostile_record[...]` case checks its own record by its Kafka
offset. The expected outcomes are docs/events.md's. A case the current SQL gets wrong is
`xfail(strict=True)` with the gap named in hostile_payloads.GAPS."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from confluent_kafka import Producer
from hostile_payloads import (
    BATCHES,
    DUPLICATE,
    GAPS,
    LAKE_GAPS,
    LATE,
    MAIN,
    QUARANTINE,
    REPLAY,
    SILVER,
    Payload,
    corpus,
    expected_event_id,
    replay_twice,
)
from support import dbt_build

from generator.contract import MAX_ORDER_TOTAL, PRODUCT_EVENT_TYPES
from pipeline import deploy, lake
from stack import kafka
from stack.config import Config, load_config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

JOBS = ("bronze", "silver_gold")
TERMINAL = {"FINISHED", "FAILED", "CANCELED"}
REES46_SAMPLE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "rees46-2019-10-sample.csv"
)
NEEDS_SAMPLE = pytest.mark.skipif(
    not REES46_SAMPLE.exists(), reason="needs ../shared/data (the REES46 sample)"
)


@dataclass
class HostileRun:
    config: Config
    payloads: dict[str, Payload]
    offsets: dict[str, int]  # payload name -> Kafka offset (partition 0)
    states: dict[str, str]  # job -> final state
    exceptions: dict[str, list[dict]]  # job -> Flink's exception history
    lake: duckdb.DuckDBPyConnection


def _produce(config: Config, payloads: list[Payload]) -> dict[str, int]:
    """Send each record to partition 0 in order; returns each one's offset."""
    producer = Producer(
        {
            "bootstrap.servers": config.bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        }
    )
    offsets: dict[str, int] = {}
    errors: list[str] = []

    def delivered(name: str):
        def report(error, message) -> None:
            if error is not None:
                errors.append(f"{name}: {error}")
            else:
                offsets[name] = message.offset()

        return report

    for payload in payloads:
        producer.produce(
            config.kafka_topic,
            value=payload.value,
            key=payload.key,
            partition=0,
            on_delivery=delivered(payload.name),
        )
        producer.poll(0)
    assert producer.flush(60) == 0
    assert not errors, errors
    assert sorted(offsets.values()) == list(range(len(payloads)))
    return offsets


def job_exceptions(config: Config, job_id: str) -> list[dict]:
    """Flink's exception history of a job: one entry per failure, so per restart."""
    history = deploy.rest(config, "GET", f"/jobs/{job_id}/exceptions")
    return history.get("exceptionHistory", {}).get("entries", [])


def _run(running_stack: Config, lake_root: str, payloads: list[Payload]) -> HostileRun:
    topic = f"hostile-{uuid.uuid4().hex[:10]}"
    assert kafka.ensure_topic(running_stack, topic, partitions=1)
    config = load_config(
        kafka_topic=topic,
        lake_root=lake_root,
        deployment=f"test-{topic}",
        kafka_bounded_mode="latest-offset",
        checkpoint_interval="2 s",
        watermark_emit_strategy="on-event",
    )
    offsets = _produce(config, payloads)
    states, exceptions = {}, {}
    for job in JOBS:
        job_id, started = deploy.submit(config, job)
        assert started
        # A failure restarts the job (exponential-delay, no attempt limit): stop waiting at the
        # first one, and cancel the job so it does not keep restarting.
        wait_until(
            lambda job_id=job_id: (
                deploy.job_state(config, job_id) in TERMINAL or bool(job_exceptions(config, job_id))
            ),
            timeout_s=300,
            interval_s=0.5,
        )
        exceptions[job] = job_exceptions(config, job_id)
        if deploy.job_state(config, job_id) not in TERMINAL:
            deploy.cancel(config, job_id)
        states[job] = deploy.job_state(config, job_id)
    return HostileRun(
        config,
        {p.name: p for p in payloads},
        offsets,
        states,
        exceptions,
        lake.connect(config.lake_root),
    )


@pytest.fixture(scope="module")
def hostile_runs(running_stack: Config, tmp_path_factory) -> dict[str, HostileRun]:
    """One bounded run of both jobs per batch of the corpus, each with its own topic and lake."""
    # Event times a few minutes behind now: within max_future_minutes of the Kafka timestamps.
    start_at = (datetime.now(UTC) - timedelta(minutes=10)).replace(second=0, microsecond=0)
    payloads = corpus(start_at, running_stack.watermark_delay_seconds)
    if REES46_SAMPLE.exists():
        payloads += replay_twice(REES46_SAMPLE)
    batches = {batch: [p for p in payloads if p.batch == batch] for batch in BATCHES}
    return {
        batch: _run(running_stack, str(tmp_path_factory.mktemp(f"hostile-{batch}") / "lake"), part)
        for batch, part in batches.items()
        if part
    }


def _batch(hostile_runs: dict[str, HostileRun], batch: str) -> HostileRun:
    if batch not in hostile_runs:
        pytest.skip(f"no records in batch {batch} (the REES46 sample is missing)")
    return hostile_runs[batch]


def test_jobs_finish_without_a_restart(hostile_runs: dict[str, HostileRun]):
    for batch, run in hostile_runs.items():
        failures = {
            job: [entry.get("exceptionName", "?") for entry in entries]
            for job, entries in run.exceptions.items()
            if entries
        }
        assert run.states == dict.fromkeys(JOBS, "FINISHED"), (batch, failures)
        assert failures == {}, batch


@pytest.mark.parametrize("batch", BATCHES)
def test_every_record_is_accounted_for_exactly_once(hostile_runs, batch: str):
    """bronze = silver + quarantine + late + duplicates: every record but a duplicate lands in
    exactly one place, a duplicate in none."""
    run = _batch(hostile_runs, batch)
    connection = run.lake
    bronze = connection.execute(
        "select count(*), count(distinct kafka_offset) from bronze_events"
    ).fetchone()
    assert bronze == (len(run.payloads), len(run.payloads))
    tables = [t for t in ("silver_events", "quarantine_events", "late_events") if _has(run, t)]
    offsets = " union all ".join(f"select kafka_offset from {table}" for table in tables)
    placed = connection.execute(
        f"select kafka_offset, count(*) from ({offsets}) group by 1 order by 1"
    ).fetchall()
    kept = [run.offsets[p.name] for p in run.payloads.values() if p.outcome != DUPLICATE]
    assert placed == [(offset, 1) for offset in sorted(kept)]


def test_gold_counts_every_silver_event(hostile_runs):
    """The survivors of the hostile records are counted in their windows like any event."""
    connection = hostile_runs[MAIN].lake
    got = connection.execute(
        "select window_start, event_type, event_count from gold_events_per_minute order by all"
    ).fetchall()
    want = connection.execute(
        "select time_bucket(interval 1 minute, event_at), event_type, count(*) "
        "from silver_events group by all order by all"
    ).fetchall()
    assert got == want
    assert len({row[0] for row in got}) >= 3  # two warm-up windows and the hostile ones


def _batch_case(batch: str):
    marks = [pytest.mark.xfail(strict=True, reason=LAKE_GAPS[batch])] if batch in LAKE_GAPS else []
    return pytest.param(batch, marks=marks, id=batch)


@pytest.mark.parametrize("batch", [_batch_case(batch) for batch in BATCHES])
def test_every_lake_table_reads_in_full(hostile_runs, batch: str):
    """Whatever came in, each lake table stays readable by DuckDB (and so by dbt), every
    column of every row: one bad record must not make a table unreadable for its readers."""
    run = _batch(hostile_runs, batch)
    tables = [table for table in lake.TABLES if _has(run, table)]
    outcomes = {payload.outcome for payload in run.payloads.values()}
    expected = {"bronze_events", "silver_events"} | {
        table
        for table, outcome in (("quarantine_events", QUARANTINE), ("late_events", LATE))
        if outcome in outcomes
    }
    assert expected <= set(tables)
    unreadable = {}
    for table in tables:
        try:
            run.lake.execute(f"select * from {table}").fetchall()
        except duckdb.Error as error:
            unreadable[table] = str(error)[:300]
    assert unreadable == {}


def _has(run: HostileRun, table: str) -> bool:
    return bool(lake.committed_files(run.config.lake_root, table))


def _text(raw: bytes | None) -> str | None:
    """What a STRING column can hold of a key or value: its UTF-8 text, invalid sequences
    replaced by U+FFFD (a Parquet string must be valid UTF-8, or readers refuse the file)."""
    return None if raw is None else raw.decode("utf-8", errors="replace")


def _case(payload: Payload):
    marks = (
        [pytest.mark.xfail(strict=True, reason=GAPS[payload.name])] if payload.name in GAPS else []
    )
    return pytest.param(payload.name, marks=marks, id=payload.name)


CORPUS = {payload.name: payload for payload in corpus(datetime(2026, 1, 1, tzinfo=UTC))}


@pytest.mark.parametrize("name", [_case(payload) for payload in CORPUS.values()])
def test_hostile_record(hostile_runs, name: str):
    run = hostile_runs[CORPUS[name].batch]
    payload = run.payloads[name]
    offset = run.offsets[name]
    connection = run.lake

    bronze = connection.execute(
        "select raw_payload, kafka_key from bronze_events where kafka_offset = ?", [offset]
    ).fetchall()
    assert bronze == [(_text(payload.value), _text(payload.key))], "bronze holds it once"

    found = {
        table: _rows(connection, f"select * from {table} where kafka_offset = ?", [offset])
        if _has(run, table)
        else []
        for table in ("silver_events", "quarantine_events", "late_events")
    }
    where = sorted(table.split("_")[0] for table, rows in found.items() if rows)
    reasons = [row["reason"] for row in found["quarantine_events"]]
    expected = [] if payload.outcome == DUPLICATE else [payload.outcome]
    assert where == expected, f"{payload.why}; landed in {where} {reasons}"

    if payload.outcome == QUARANTINE:
        assert reasons == [payload.reason], payload.why
        assert found["quarantine_events"][0]["raw_payload"] == _text(payload.value)
    elif payload.outcome == LATE:
        assert found["late_events"][0]["event_id"] == expected_event_id(payload)
        assert found["late_events"][0]["raw_payload"] == _text(payload.value)
    elif payload.outcome == SILVER:
        row = found["silver_events"][0]
        assert row["event_id"] == expected_event_id(payload)
        assert {column: row[column] for column in payload.silver} == payload.silver, payload.why


def _rows(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> list[dict]:
    cursor = connection.execute(sql, parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_no_amount_is_null_anywhere(hostile_runs):
    """Every amount that reached the lake is there, exact: a product event's price, each line's
    unit price and line total (= quantity x unit price), each gold window's revenue."""
    connection = hostile_runs[MAIN].lake
    product_types = ", ".join(f"'{event_type}'" for event_type in PRODUCT_EVENT_TYPES)
    checks = {
        "product events without a price": "select count(*) from silver_events "
        f"where event_type in ({product_types}) and price is null",
        "order lines without an exact total": "select count(*) from silver_order_items "
        "where unit_price is null or line_total is null or line_total <> quantity * unit_price",
        "purchases without lines": "select count(*) from silver_events where event_type = "
        "'purchase' and item_count <> (select count(*) from silver_order_items as items "
        "where items.event_id = silver_events.event_id)",
        **{
            f"{table} windows without revenue": f"select count(*) from {table} "
            "where revenue is null"
            for table in (
                "gold_revenue_per_window",
                "gold_revenue_by_category_per_window",
                "gold_purchases_by_device_per_window",
                "gold_revenue_per_rollup_window",
                "gold_purchases_by_device_per_rollup_window",
            )
        },
    }
    found = {name: connection.execute(sql).fetchone()[0] for name, sql in checks.items()}
    assert found == dict.fromkeys(checks, 0)
    at_the_limit = connection.execute(
        "select sum(line_total) from silver_order_items where order_id = 'O-at-limit'"
    ).fetchone()[0]
    assert at_the_limit == MAX_ORDER_TOTAL


def test_dbt_build_passes_on_the_hostile_lake(hostile_runs, tmp_path):
    """The marts build, every dbt test passing, over the lake that received the corpus (the
    overflowing order included): no bad record reaches a table dbt tests."""
    output = dbt_build(hostile_runs[MAIN].config.lake_root, tmp_path)
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0 ", output), output[-3000:]


@NEEDS_SAMPLE
def test_replaying_a_file_twice_counts_it_once(hostile_runs):
    """docs/events.md, Replaying a file twice: the first pass is silver; every record of the
    second is a duplicate, though its event times are behind the watermark by then."""
    run = _batch(hostile_runs, REPLAY)
    first = [p for p in run.payloads.values() if p.outcome == SILVER]
    assert len(first) == len(run.payloads) // 2
    silver = run.lake.execute("select event_id, count(*) from silver_events group by 1").fetchall()
    assert sorted(silver) == sorted((_payload_event_id(p), 1) for p in first)
    assert not _has(run, "late_events") and not _has(run, "quarantine_events")
    days = lake.accounting(run.config.lake_root)
    counted = {
        name: sum(getattr(day, name) for day in days)
        for name in (
            "silver_event_count",
            "late_event_count",
            "duplicate_record_count",
            "unaccounted_record_count",
        )
    }
    assert counted == {
        "silver_event_count": len(first),
        "late_event_count": 0,
        "duplicate_record_count": len(first),
        "unaccounted_record_count": 0,
    }


def _payload_event_id(payload: Payload) -> str:
    return json.loads(payload.value)["event_id"]


def test_corpus_covers_every_outcome_and_reason():
    """No network: the corpus exercises each layer and every quarantine reason code."""
    from generator.contract import REASONS

    payloads = corpus(datetime(2026, 1, 1, tzinfo=UTC))
    assert {p.outcome for p in payloads} == {SILVER, LATE, QUARANTINE, DUPLICATE}
    assert {p.reason for p in payloads if p.reason} == set(REASONS)
