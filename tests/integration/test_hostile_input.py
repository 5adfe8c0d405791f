"""Hostile input on the real stack: every record of tests/hostile_payloads.py goes through Kafka
and both Flink jobs (bounded reads), and each one must end where the contract says, with both
jobs FINISHED and no restart on the way.

Two runs serve every case, one per batch of the corpus (the invalid UTF-8 records get a lake of
their own, so what they do to a table's readers cannot hide the other cases): the records go to
a fresh single-partition topic (production order is then event-time order and lateness is
exact), both jobs read it to the end, and each `test_hostile_record[...]` case checks its own
record by its Kafka offset. A case the current SQL gets wrong is `xfail(strict=True)` with the
gap named in hostile_payloads.GAPS."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from confluent_kafka import Producer
from hostile_payloads import (
    BATCHES,
    GAPS,
    LAKE_GAPS,
    LATE,
    MAIN,
    QUARANTINE,
    SILVER,
    Payload,
    corpus,
    expected_event_id,
)

from pipeline import deploy, lake
from stack import kafka
from stack.config import Config, load_config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

JOBS = ("bronze", "silver_gold")
TERMINAL = {"FINISHED", "FAILED", "CANCELED"}


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
    payloads = corpus(start_at)
    return {
        batch: _run(
            running_stack,
            str(tmp_path_factory.mktemp(f"hostile-{batch}") / "lake"),
            [p for p in payloads if p.batch == batch],
        )
        for batch in BATCHES
    }


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
    """bronze = silver + quarantine + late (the corpus has no duplicates), and no record lands
    in two places or in none."""
    run = hostile_runs[batch]
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
    assert placed == [(offset, 1) for offset in sorted(run.offsets.values())]


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
    run = hostile_runs[batch]
    tables = [table for table in lake.TABLES if _has(run, table)]
    assert {"bronze_events", "silver_events", "quarantine_events"} <= set(tables)
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
    assert where == [payload.outcome], f"{payload.why}; landed in {where} {reasons}"

    if payload.outcome == QUARANTINE:
        assert reasons == [payload.reason], payload.why
        assert found["quarantine_events"][0]["raw_payload"] == _text(payload.value)
    elif payload.outcome == LATE:
        assert found["late_events"][0]["event_id"] == expected_event_id(payload)
    else:
        assert payload.outcome == SILVER
        row = found["silver_events"][0]
        assert row["event_id"] == expected_event_id(payload)
        assert {column: row[column] for column in payload.silver} == payload.silver, payload.why


def _rows(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> list[dict]:
    cursor = connection.execute(sql, parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_corpus_covers_every_outcome_and_reason():
    """No network: the corpus exercises each layer and every quarantine reason code."""
    from generator.contract import REASONS

    payloads = corpus(datetime(2026, 1, 1, tzinfo=UTC))
    assert {p.outcome for p in payloads} == {SILVER, LATE, QUARANTINE}
    assert {p.reason for p in payloads if p.reason} == set(REASONS)
