"""Pipeline health for `jobs.py status` and the dashboard: each deployed job from Flink's REST
API, the Kafka consumer lag of each job's consumer group, and the TaskManagers' memory and GC.
`problems()` says what makes it unhealthy, `warnings()` what will if it goes on (the rules are in
`pipeline.early_warning`); `report()` is the whole check both show."""

from __future__ import annotations

import shutil
import time
import urllib.error
from dataclasses import dataclass, field, replace
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition

import stack
from pipeline import deploy, early_warning, state_cost
from sqlcheck.project import job_names
from stack import flink
from stack.config import Config
from stack.processes import StackError

BACKPRESSURE_ORDER = ("ok", "low", "high")


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    committed_offset: int | None  # Flink commits the group's offsets on each checkpoint
    end_offset: int

    @property
    def lag(self) -> int:
        return self.end_offset - (self.committed_offset or 0)


@dataclass(frozen=True)
class CheckpointSample:
    """A completed checkpoint, from the job's checkpoint history."""

    checkpoint_id: int
    completed_at_s: float  # epoch seconds
    duration_ms: int
    state_size_bytes: int  # the whole state it restores
    checkpointed_size_bytes: int  # what it wrote (incremental: only new files)


@dataclass(frozen=True)
class JobHealth:
    job: str  # the flink_sql/jobs/<job>.sql name
    pipeline_name: str
    job_id: str | None
    state: str  # RUNNING, RESTARTING, …, or NOT_DEPLOYED
    uptime_s: float | None = None
    restarts: int | None = None
    checkpoint_age_s: float | None = None
    checkpoint_duration_ms: int | None = None
    checkpoint_size_bytes: int | None = None  # written by the latest checkpoint
    state_size_bytes: int | None = None  # the latest checkpoint's whole state
    failed_checkpoints: int | None = None
    # Completed checkpoints Flink still lists (stack.flink.CHECKPOINT_HISTORY), oldest first.
    checkpoint_history: list[CheckpointSample] = field(default_factory=list)
    records_in_per_s: float | None = None  # read by the Kafka source
    records_out_per_s: float | None = None  # written by the sinks
    watermark_lag_s: float | None = None  # now - the source's current watermark (event time)
    backpressure: str | None = None  # worst over the job's vertices: ok, low, high
    kafka_lag: list[PartitionLag] = field(default_factory=list)

    @property
    def total_lag(self) -> int:
        return sum(partition.lag for partition in self.kafka_lag)


def _metrics(config: Config, path: str, wanted) -> dict[str, float]:
    """Metrics of a job vertex whose id satisfies `wanted`, by id."""
    ids = [m["id"] for m in deploy.rest(config, "GET", f"{path}/metrics") if wanted(m["id"])]
    if not ids:
        return {}
    values = deploy.rest(config, "GET", f"{path}/metrics?get={','.join(ids)}")
    return {value["id"]: float(value["value"]) for value in values}


def _job_health(config: Config, job: str, info: deploy.JobInfo, now_ms: int) -> JobHealth:
    base = f"/jobs/{info.job_id}"
    detail = deploy.rest(config, "GET", base)
    job_metrics = {
        m["id"]: m["value"]
        for m in deploy.rest(config, "GET", f"{base}/metrics?get=numRestarts,uptime")
    }
    checkpoints = deploy.rest(config, "GET", f"{base}/checkpoints")
    latest = checkpoints.get("latest", {}).get("completed")
    records_in = records_out = 0.0
    watermarks: list[float] = []
    worst = "ok"
    for vertex in detail["vertices"]:
        path = f"{base}/vertices/{vertex['id']}"
        if vertex["name"].startswith("Source:"):
            values = _metrics(
                config,
                path,
                lambda i: (
                    ".Source__" in i
                    and (
                        i.endswith(".numRecordsOutPerSecond")
                        or i.endswith(".currentOutputWatermark")
                    )
                ),
            )
            records_in += sum(v for k, v in values.items() if k.endswith("PerSecond"))
            watermarks += [v for k, v in values.items() if k.endswith("Watermark")]
        values = _metrics(config, path, lambda i: "Writer.numRecordsInPerSecond" in i)
        records_out += sum(values.values())
        if info.state == "RUNNING":
            level = deploy.rest(config, "GET", f"{path}/backpressure").get(
                "backpressureLevel", "ok"
            )
            worst = max(worst, level, key=BACKPRESSURE_ORDER.index)
    # Long.MIN_VALUE (no watermark yet) shows as a hugely negative number.
    watermark = min(watermarks) if watermarks and min(watermarks) > 0 else None
    return JobHealth(
        job=job,
        pipeline_name=info.name,
        job_id=info.job_id,
        state=info.state,
        uptime_s=float(job_metrics.get("uptime", 0)) / 1000,
        restarts=int(job_metrics.get("numRestarts", 0)),
        checkpoint_age_s=(now_ms - latest["latest_ack_timestamp"]) / 1000 if latest else None,
        checkpoint_duration_ms=latest["end_to_end_duration"] if latest else None,
        checkpoint_size_bytes=latest["checkpointed_size"] if latest else None,
        state_size_bytes=latest["state_size"] if latest else None,
        failed_checkpoints=checkpoints.get("counts", {}).get("failed"),
        checkpoint_history=checkpoint_history(checkpoints),
        records_in_per_s=records_in,
        records_out_per_s=records_out,
        watermark_lag_s=(now_ms - watermark) / 1000 if watermark else None,
        backpressure=worst if info.state == "RUNNING" else None,
    )


def checkpoint_history(checkpoints: dict) -> list[CheckpointSample]:
    """The completed checkpoints of a `/jobs/<id>/checkpoints` document, oldest first."""
    return sorted(
        (
            CheckpointSample(
                checkpoint_id=entry["id"],
                completed_at_s=entry["latest_ack_timestamp"] / 1000,
                duration_ms=entry["end_to_end_duration"],
                state_size_bytes=entry["state_size"],
                checkpointed_size_bytes=entry["checkpointed_size"],
            )
            for entry in checkpoints.get("history", [])
            if entry.get("status") == "COMPLETED"
        ),
        key=lambda sample: sample.checkpoint_id,
    )


@dataclass(frozen=True)
class TaskManagerHealth:
    taskmanager_id: str
    heap_used_bytes: int
    heap_max_bytes: int
    gc_ms_per_s: float | None  # garbage collection time per second, over Flink's last minute
    gc_time_ms: int  # since the TaskManager started
    managed_used_bytes: int
    managed_total_bytes: int
    rss_bytes: int | None = None  # resident memory, for a TaskManager of the local stack


TASKMANAGER_METRICS = {
    "Status.JVM.Memory.Heap.Used": "heap_used_bytes",
    "Status.JVM.Memory.Heap.Max": "heap_max_bytes",
    "Status.JVM.GarbageCollector.All.TimeMsPerSecond": "gc_ms_per_s",
    "Status.JVM.GarbageCollector.All.Time": "gc_time_ms",
    "Status.Flink.Memory.Managed.Used": "managed_used_bytes",
    "Status.Flink.Memory.Managed.Total": "managed_total_bytes",
}


def rss_bytes(pid: int | None) -> int | None:
    """Resident set size of a local process (None when it is not running here)."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def taskmanager_health(config: Config) -> list[TaskManagerHealth]:
    """Heap, GC and managed memory of each registered TaskManager; resident memory too when it
    is one of the local stack's (its REST id is its service name, stack/flink.py)."""
    taskmanagers = deploy.rest(config, "GET", "/taskmanagers").get("taskmanagers", [])
    local = {service.name: service for service in flink.taskmanagers(config)}
    rows = []
    for taskmanager in taskmanagers:
        values = {
            metric["id"]: float(metric["value"])
            for metric in deploy.rest(
                config,
                "GET",
                f"/taskmanagers/{taskmanager['id']}/metrics?get={','.join(TASKMANAGER_METRICS)}",
            )
        }
        fields = {name: values.get(metric) for metric, name in TASKMANAGER_METRICS.items()}
        rows.append(
            TaskManagerHealth(
                taskmanager_id=taskmanager["id"],
                heap_used_bytes=int(fields["heap_used_bytes"] or 0),
                heap_max_bytes=int(fields["heap_max_bytes"] or 0),
                gc_ms_per_s=fields["gc_ms_per_s"],
                gc_time_ms=int(fields["gc_time_ms"] or 0),
                managed_used_bytes=int(fields["managed_used_bytes"] or 0),
                managed_total_bytes=int(fields["managed_total_bytes"] or 0),
                rss_bytes=rss_bytes(
                    local[taskmanager["id"]].pid() if taskmanager["id"] in local else None
                ),
            )
        )
    return rows


def consumer_lag(config: Config, group_id: str) -> list[PartitionLag]:
    """Per partition: the group's committed offset (None when it has none, or the group
    coordinator cannot tell yet) and the partition's end offset."""
    consumer = Consumer(
        {"bootstrap.servers": config.bootstrap_servers, "group.id": group_id, "log_level": 0}
    )
    try:
        topic = consumer.list_topics(config.kafka_topic, timeout=5).topics[config.kafka_topic]
        partitions = [TopicPartition(config.kafka_topic, p) for p in sorted(topic.partitions)]
        try:
            committed = {
                tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=5)
            }
        except KafkaException:
            committed = {}
        return [
            PartitionLag(
                tp.partition,
                committed[tp.partition] if committed.get(tp.partition, -1) >= 0 else None,
                consumer.get_watermark_offsets(tp, timeout=5)[1],
            )
            for tp in partitions
        ]
    except (KafkaException, KeyError):
        return []
    finally:
        consumer.close()


def pipeline_health(config: Config) -> list[JobHealth]:
    """One row per job file: its newest deployment on the cluster, or NOT_DEPLOYED."""
    now_ms = int(time.time() * 1000)
    jobs = deploy.list_jobs(config)
    rows = []
    for job in job_names(config.sql_dir):
        name = deploy.pipeline_name(config, job)
        deployed = [info for info in jobs if info.name == name]
        if not deployed:
            rows.append(JobHealth(job, name, None, "NOT_DEPLOYED"))
            continue
        health = _job_health(config, job, deployed[-1], now_ms)
        lag = consumer_lag(config, config.sql_params(job)["kafka_group_id"])
        rows.append(replace(health, kafka_lag=lag))
    return rows


def checkpoint_interval_s(config: Config) -> float:
    return state_cost.duration_s(config.checkpoint_interval)


def problems(config: Config, rows: list[JobHealth], max_checkpoint_intervals: int = 3) -> list[str]:
    """Why the pipeline is unhealthy (empty when it is healthy)."""
    found = []
    limit = max_checkpoint_intervals * checkpoint_interval_s(config)
    for row in rows:
        if row.state != "RUNNING":
            found.append(f"{row.job}: job is {row.state}")
            continue
        if row.checkpoint_age_s is None and (row.uptime_s or 0) > limit:
            found.append(f"{row.job}: no checkpoint completed in {row.uptime_s:.0f} s")
        elif row.checkpoint_age_s is not None and row.checkpoint_age_s > limit:
            found.append(
                f"{row.job}: last checkpoint {row.checkpoint_age_s:.0f} s ago (> {limit:.0f} s)"
            )
        if row.backpressure == "high":
            found.append(f"{row.job}: backpressure high")
    return found


def state_budget_bytes(config: Config, taskmanagers: list[TaskManagerHealth]) -> float | None:
    """Room for state: the TaskManager heap (hashmap), or the free disk where the local stack's
    RocksDB keeps its files (None for a remote cluster: its disks are not visible here)."""
    if config.state_backend == "hashmap":
        return float(sum(row.heap_max_bytes for row in taskmanagers)) or None
    localdir = flink.home(config) / "rocksdb"
    return float(shutil.disk_usage(localdir).free) if localdir.exists() else None


def warnings(
    config: Config, rows: list[JobHealth], taskmanagers: list[TaskManagerHealth]
) -> list[str]:
    """What will make the pipeline fall behind if it goes on (empty when nothing does)."""
    interval_s = checkpoint_interval_s(config)
    retention_s = state_cost.duration_s(config.dedup_state_ttl)
    budget = state_budget_bytes(config, taskmanagers)
    found = []
    for row in rows:
        if row.state != "RUNNING":
            continue
        history = row.checkpoint_history
        recent = history[-early_warning.RECENT_CHECKPOINTS :]
        found.append(
            early_warning.slow_checkpoint(
                row.job, [sample.duration_ms for sample in recent], interval_s
            )
        )
        sizes = [
            early_warning.Sample(sample.completed_at_s, sample.state_size_bytes)
            for sample in history
        ]
        found.append(
            early_warning.growing_state(row.job, sizes, row.uptime_s or 0, retention_s, budget)
        )
    for taskmanager in taskmanagers:
        found.append(
            early_warning.gc_pressure(
                f"taskmanager {taskmanager.taskmanager_id}", taskmanager.gc_ms_per_s
            )
        )
    return [warning for warning in found if warning]


def dedup_state_note(config: Config, rows: list[JobHealth]) -> str | None:
    """The deduplication state's expected size at the current input rate."""
    rates = [row.records_in_per_s for row in rows if row.records_in_per_s]
    if not rates:
        return None
    cost = state_cost.dedup_state_cost(config, max(rates))
    return (
        f"deduplication state at steady state (dedup_state_ttl = {config.dedup_state_ttl}): "
        f"{cost.describe()}"
    )


@dataclass(frozen=True)
class HealthReport:
    services: list[stack.ServiceStatus]
    jobs: list[JobHealth]  # empty while the JobManager is not healthy
    problems: list[str]
    # Signs of trouble ahead (pipeline.early_warning); they do not make the pipeline unhealthy.
    warnings: list[str] = field(default_factory=list)
    taskmanagers: list[TaskManagerHealth] = field(default_factory=list)
    dedup_state: str | None = None

    @property
    def is_healthy(self) -> bool:
        return not self.problems

    @property
    def is_stack_running(self) -> bool:
        return any(service.is_running for service in self.services)


def report(config: Config) -> HealthReport:
    """The services, then the jobs once the JobManager answers, and every problem found."""
    services = stack.status(config)
    found = [f"{row.name}: {row.detail}" for row in services if not row.is_healthy]
    jobs, taskmanagers, ahead, note = [], [], [], None
    if all(row.is_healthy for row in services if row.name == "jobmanager"):
        jobs = pipeline_health(config)
        found += problems(config, jobs)
        try:
            taskmanagers = taskmanager_health(config)
        except (StackError, urllib.error.URLError, ValueError):
            taskmanagers = []  # a TaskManager that just went away
        ahead = warnings(config, jobs, taskmanagers)
        note = dedup_state_note(config, jobs)
    return HealthReport(services, jobs, found, ahead, taskmanagers, note)
