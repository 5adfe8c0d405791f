"""Pipeline health for `jobs.py status` and the dashboard: each deployed job from Flink's REST
API, and the Kafka consumer lag of each job's consumer group. `problems()` says what makes it
unhealthy; `report()` is the whole check both show."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from confluent_kafka import Consumer, KafkaException, TopicPartition

import stack
from pipeline import deploy
from sqlcheck.project import job_names
from stack.config import Config

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
class JobHealth:
    job: str  # the flink_sql/jobs/<job>.sql name
    pipeline_name: str
    job_id: str | None
    state: str  # RUNNING, RESTARTING, …, or NOT_DEPLOYED
    uptime_s: float | None = None
    restarts: int | None = None
    checkpoint_age_s: float | None = None
    checkpoint_duration_ms: int | None = None
    checkpoint_size_bytes: int | None = None
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
    latest = deploy.rest(config, "GET", f"{base}/checkpoints").get("latest", {}).get("completed")
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
        records_in_per_s=records_in,
        records_out_per_s=records_out,
        watermark_lag_s=(now_ms - watermark) / 1000 if watermark else None,
        backpressure=worst if info.state == "RUNNING" else None,
    )


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
    number, unit = config.checkpoint_interval.split()
    return float(number) * {"ms": 0.001, "s": 1, "min": 60}[unit]


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


@dataclass(frozen=True)
class HealthReport:
    services: list[stack.ServiceStatus]
    jobs: list[JobHealth]  # empty while the JobManager is not healthy
    problems: list[str]

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
    jobs = []
    if all(row.is_healthy for row in services if row.name == "jobmanager"):
        jobs = pipeline_health(config)
        found += problems(config, jobs)
    return HealthReport(services, jobs, found)
