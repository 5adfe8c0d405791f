"""What the fault scenarios share (tests/integration/test_faults.py on the single-broker stack,
test_scale_out.py on several brokers and TaskManagers): both jobs submitted unbounded, a producer
in a thread that writes the ground truth, waits on the lake, and the exact comparison of every
per-record layer (and gold's closed windows) with the ground truth."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from generator.ground_truth import (
    GroundTruthRecord,
    GroundTruthWriter,
    expected_layer_counts,
    expected_silver_events,
    load_ground_truth,
)
from generator.model import GeneratorConfig, Record
from generator.produce import DeliveryStats, KafkaSettings, RunReport, open_producer, send_records
from pipeline import deploy, lake, upgrade
from stack import flink
from stack.config import Config
from stack.processes import Service, wait_until

JOBS = ("bronze", "silver_gold")
RECORDS = 5_000
SIM_RATE = 25.0  # records per simulated second: 5,000 records span 200 s, three closed windows
CATCH_UP_S = 240


def generator_config(seed: int, partitions: int = 3) -> GeneratorConfig:
    start_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    return GeneratorConfig(
        seed=seed, start_at=start_at, sim_rate=SIM_RATE, late_rate=0.0, partitions=partitions
    )


def unbounded(pipeline_config: Config) -> Config:
    return replace(pipeline_config, kafka_bounded_mode="unbounded")


def submit_all(config: Config) -> dict[str, str]:
    """Both jobs, unbounded; returns job -> id once every task of both runs."""
    ids: dict[str, str] = {}
    try:
        for job in JOBS:
            job_id, started = deploy.submit(config, job)
            assert started
            ids[job] = job_id
        assert wait_until(lambda: all_running(config, ids), 120, 0.5)
    except BaseException:
        cancel_active(config, ids)
        raise
    return ids


def deploy_at(config: Config, parallelism: int, log: list[str]) -> tuple[Config, dict[str, str]]:
    """`CLICKSTREAM_PARALLELISM=<n> jobs.py deploy`: a changed setting is a new version of each
    job, upgraded through a savepoint. Returns the config and the running jobs' ids."""
    config = replace(config, parallelism=parallelism)
    assert upgrade.deploy_jobs(config, list(JOBS), log=log.append), "\n".join(log)
    ids = {job: deploy.active_job(config, deploy.pipeline_name(config, job)) for job in JOBS}
    assert all(info is not None for info in ids.values()), ids
    return config, {job: info.job_id for job, info in ids.items()}


def cancel_active(config: Config, ids: dict[str, str]) -> None:
    for job_id in ids.values():
        if deploy.job_state(config, job_id) in deploy.ACTIVE_STATES:
            deploy.cancel(config, job_id)


def all_running(config: Config, ids: dict[str, str]) -> bool:
    return all(tasks_running(config, job_id) for job_id in ids.values())


def tasks_running(config: Config, job_id: str) -> bool:
    detail = deploy.rest(config, "GET", f"/jobs/{job_id}")
    return detail["state"] == "RUNNING" and all(
        vertex["status"] == "RUNNING" for vertex in detail["vertices"]
    )


def failure_causes(config: Config, job_id: str) -> list[str]:
    """The job's exception history, oldest first: one entry per failure, hence per restart."""
    history = deploy.rest(config, "GET", f"/jobs/{job_id}/exceptions")
    entries = history.get("exceptionHistory", {}).get("entries", [])
    return [entry.get("exceptionName", "?").rsplit(".", 1)[-1] for entry in reversed(entries)]


def failures(config: Config, job_id: str) -> int:
    return len(failure_causes(config, job_id))


def restarts(config: Config, ids: dict[str, str]) -> str:
    return "; ".join(
        f"{job}: {len(causes)} restarts {dict(Counter(causes))}"
        for job, causes in ((job, failure_causes(config, i)) for job, i in ids.items())
    )


def completed_checkpoints(config: Config, job_id: str) -> int:
    return deploy.rest(config, "GET", f"/jobs/{job_id}/checkpoints")["counts"]["completed"]


def to_truth(records: list[Record]) -> list[GroundTruthRecord]:
    return [
        GroundTruthRecord(seq, r.key, r.value.decode(), r.partition, r.fault, r.reason, r.event_id)
        for seq, r in enumerate(records)
    ]


def lake_counts(config: Config) -> dict[str, int]:
    counts = lake.row_counts(config.lake_root)
    return {name: counts[f"{name}_events"] for name in ("bronze", "silver", "quarantine", "late")}


def wait_for_lake(config: Config, truth: list[GroundTruthRecord], timeout_s: float) -> bool:
    """Until bronze, silver and quarantine hold as many rows as the ground truth says (more
    would be a duplicate: the exact comparison that follows catches it)."""
    expected = expected_layer_counts(truth)
    want = {"bronze": expected.bronze, "silver": expected.silver, "quarantine": expected.quarantine}

    def caught_up() -> bool:
        counts = lake_counts(config)
        return all(counts[name] >= rows for name, rows in want.items())

    return wait_until(caught_up, timeout_s, interval_s=1)


def closed_windows(
    config: Config, truth: list[GroundTruthRecord]
) -> tuple[list[tuple], list[tuple]]:
    """gold events_per_minute (got, want) for the windows that ended at least a minute before
    the last event time: the watermark has closed them whatever the partitions' skew."""
    events = expected_silver_events(truth)
    times = [datetime.strptime(e["event_at"], "%Y-%m-%dT%H:%M:%S.%fZ") for e in events]
    cutoff = max(times).replace(second=0, microsecond=0) - timedelta(minutes=1)
    want = Counter(
        (t.replace(second=0, microsecond=0), e["event_type"])
        for t, e in zip(times, events, strict=True)
        if t < cutoff
    )
    connection = lake.connect(config.lake_root)
    got = []
    if lake.committed_files(config.lake_root, "gold_events_per_minute"):
        got = connection.execute(
            "select window_start, event_type, event_count from gold_events_per_minute "
            "where window_start < ? order by all",
            [cutoff],
        ).fetchall()
    return got, sorted((window, kind, count) for (window, kind), count in want.items())


def assert_lake_matches(config: Config, truth: list[GroundTruthRecord]) -> None:
    """Every per-record layer equals the ground truth exactly; gold for the closed windows."""
    expected = expected_layer_counts(truth)
    connection = lake.connect(config.lake_root)

    bronze = connection.execute("select kafka_key, raw_payload from bronze_events").fetchall()
    assert len(bronze) == expected.bronze, "bronze: a record lost or landed twice"
    assert Counter(bronze) == Counter((r.key, r.value) for r in truth)
    distinct = connection.execute(
        "select count(distinct (kafka_partition, kafka_offset)) from bronze_events"
    ).fetchone()[0]
    assert distinct == expected.bronze

    silver_ids = [
        row[0] for row in connection.execute("select event_id from silver_events").fetchall()
    ]
    assert len(silver_ids) == len(set(silver_ids)), "silver: an event twice"
    assert set(silver_ids) == {event["event_id"] for event in expected_silver_events(truth)}

    quarantined = connection.execute(
        "select reason, count(*), count(distinct (kafka_partition, kafka_offset)) "
        "from quarantine_events group by 1"
    ).fetchall()
    assert {reason: n for reason, n, _ in quarantined} == expected.quarantine_by_reason
    assert all(n == distinct for _, n, distinct in quarantined), "quarantine: a record twice"
    assert lake_counts(config)["late"] == 0

    got, want = closed_windows(config, truth)
    assert len(want) >= 4 and got == want, "gold: a closed window lost or counted twice"
    if lake.committed_files(config.lake_root, "gold_events_per_minute"):
        assert connection.execute(
            "select count(*) - count(distinct (window_start, event_type)) "
            "from gold_events_per_minute"
        ).fetchone() == (0,)


def wait_for_gold(config: Config, truth: list[GroundTruthRecord], timeout_s: float) -> None:
    """Until the closed windows are committed (the comparison after it says what is wrong)."""

    def committed() -> bool:
        got, want = closed_windows(config, truth)
        return got == want

    wait_until(committed, timeout_s, interval_s=1)


def load_lines(lines: list[bytes]) -> list[tuple[str, str]]:
    return [(row["key"], row["value"]) for row in map(orjson.loads, lines)]


class BackgroundProducer(threading.Thread):
    """The generator's producer at a fixed rate in a thread, writing the ground truth, so a
    fault can hit while records are still arriving."""

    def __init__(self, config: Config, records: list[Record], truth: Path, rate: float) -> None:
        super().__init__(daemon=True)
        self.config, self.records, self.truth, self.rate = config, records, truth, rate
        self.report: RunReport | None = None

    def run(self) -> None:
        settings = KafkaSettings(
            bootstrap_servers=self.config.bootstrap_servers,
            topic=self.config.kafka_topic,
            batch_size=65_536,
            compression="none",
        )
        stats = DeliveryStats()
        with GroundTruthWriter(self.truth) as writer:
            self.report = send_records(
                open_producer(settings, stats),
                stats,
                self.records,
                self.config.kafka_topic,
                rate=self.rate,
                ground_truth=writer,
                log=lambda _message: None,
            )

    def finish(self, timeout_s: float = 120) -> list[GroundTruthRecord]:
        self.join(timeout_s)
        assert not self.is_alive(), "the producer did not finish"
        assert self.report is not None and self.report.ok, self.report and self.report.describe()
        return load_ground_truth(self.truth)


def let_exec_settle(service: Service) -> None:
    """Until the kernel shows the just-started process's command line. Right after exec,
    /proc/<pid>/cmdline reads empty for a moment, and Service.pid() then takes the new broker
    for a dead one and deletes its pid file (kafka.wait_healthy fails with "Kafka exited during
    start-up" while the broker runs on): a race in stack/processes.py, reported with a fix."""

    def shown() -> bool:
        try:
            pid = int(service.pid_file.read_text())
            return Path(f"/proc/{pid}/cmdline").read_bytes() != b""
        except (OSError, ValueError):
            return True  # gone: wait_healthy says so

    assert wait_until(shown, 10, interval_s=0.01)


def report(scenario: str, **seconds: float) -> None:
    figures = ", ".join(
        f"{name.replace('_', ' ')} {value:.1f} s" for name, value in seconds.items()
    )
    print(f"\n[recovery] {scenario}: {figures}")


def producing_mid_stream(
    config: Config, records: list[Record], truth: Path, rate: float
) -> BackgroundProducer:
    """Send `records` at `rate` in the background; returns once a checkpoint has committed
    silver rows while records are still arriving: the moment for a fault."""
    producer = BackgroundProducer(config, records, truth, rate=rate)
    producer.start()
    assert wait_until(lambda: lake_counts(config)["silver"] > 0, 120, 0.5)
    assert producer.is_alive(), "the producer finished before the fault"
    return producer


def kill_9(service: Service) -> float:
    """SIGKILL the service's process; returns when (time.monotonic())."""
    pid = service.pid()
    assert pid is not None, f"{service.name} is not running"
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    return killed_at


@dataclass(frozen=True)
class Recovery:
    truth: list[GroundTruthRecord]
    restarts: str  # per job: how many, and the exceptions' names
    seconds: dict[str, float]  # since the kill


def kill_taskmanager_mid_stream(
    config: Config,
    ids: dict[str, str],
    victim: Service,
    records: list[Record],
    truth: Path,
    rate: float,
    replace_it: bool,
) -> Recovery:
    """Send `records` at `rate`; once a checkpoint has committed silver rows (and records are
    still arriving) kill -9 the TaskManager `victim`, and start a new one if `replace_it` (else
    the jobs restart on the slots left). Waits until every job has failed and runs again, the
    lake holds the run and gold its closed windows; the caller compares (assert_lake_matches)."""
    producer = producing_mid_stream(config, records, truth, rate)
    killed_at = kill_9(victim)
    if replace_it:
        assert wait_until(lambda: victim.pid() is None, 30, 0.2)
        assert flink.start(config)  # a new TaskManager; the JobManager kept running
    assert wait_until(lambda: all(failures(config, i) > 0 for i in ids.values()), 120, 0.5)
    detected = time.monotonic() - killed_at
    assert wait_until(lambda: all_running(config, ids), 180, 0.5)
    running = time.monotonic() - killed_at
    run = producer.finish()
    assert wait_for_lake(config, run, CATCH_UP_S), lake_counts(config)
    caught_up = time.monotonic() - killed_at
    wait_for_gold(config, run, 60)
    return Recovery(
        run,
        restarts(config, ids),
        {
            "failure_detected_after": detected,
            "jobs_running_again_after": running,
            "lake_caught_up_after": caught_up,
        },
    )
