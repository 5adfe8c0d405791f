"""Benchmark the streaming pipeline on the local stack (both jobs running, broker and generator on
the same 2-core machine):

1. catch-up throughput: N simulated records are put in a fresh topic first, then both jobs start
   and we time how long the silver_gold source takes to read them all (Flink's own numRecordsOut
   of the source vertex) — the highest rate the pipeline sustains, since the backlog never runs dry;
2. short holds: the generator sends at a fixed rate for a while (120 s), stepping the rate up;
   every 2 s the lag (records in Kafka that the slower job's source has not read yet) is sampled.
   A rate is held when the lag does not grow after the first third (start-up, JIT warm-up): its
   fitted slope stays under 2% of the rate. A short hold is not a sustained rate: state that
   grows for its whole retention (deduplication) only shows over a soak (bench_soak.py);
3. latency at a steady rate: the generator sends records with event time = now, and the lake is
   polled; a row's latency is when its Parquet file became visible minus its event_at (silver), or
   minus its window_end (gold). Files become visible on checkpoints, so the checkpoint interval is
   part of the figure — printed with it.

    python bench/bench_pipeline.py --records 1000000 --sustain 15000 20000 25000 --rate 5000

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stack
from generator.model import GeneratorConfig
from generator.produce import DeliveryStats, KafkaSettings, open_producer, send_records
from generator.simulate import simulate
from pipeline import deploy, health, lake_reader
from stack import kafka
from stack.config import Config, load_config


def _config(tag: str, lake_root: Path, checkpoint_interval: str) -> Config:
    topic = f"bench-{tag}-{uuid.uuid4().hex[:6]}"
    return load_config(
        kafka_topic=topic,
        deployment=topic,
        lake_root=str(lake_root / topic),
        checkpoint_interval=checkpoint_interval,
    )


def _produce(config: Config, records, count: int | None, rate: float, seconds: float | None):
    stats = DeliveryStats()
    settings = KafkaSettings(bootstrap_servers=config.bootstrap_servers, topic=config.kafka_topic)
    producer = open_producer(settings, stats)
    return send_records(
        producer,
        stats,
        records,
        config.kafka_topic,
        count=count,
        rate=rate,
        duration_s=seconds,
        log=lambda _message: None,
    )


def _source_records_read(config: Config, job_id: str) -> int:
    """The Kafka source operator's numRecordsOut (every record it read), summed over subtasks."""
    vertex = deploy.rest(config, "GET", f"/jobs/{job_id}")["vertices"][0]["id"]
    path = f"/jobs/{job_id}/vertices/{vertex}/metrics"
    metrics = [
        m["id"]
        for m in deploy.rest(config, "GET", path)
        if m["id"].endswith(".numRecordsOut") and "Source__KafkaSource" in m["id"]
    ]
    if not metrics:  # the job is still starting
        return 0
    values = deploy.rest(config, "GET", f"{path}?get={','.join(metrics)}")
    return sum(int(value["value"]) for value in values)


def catch_up(
    config: Config, records: int, jobs: tuple[str, ...] = ("bronze", "silver_gold")
) -> None:
    kafka.ensure_topic(config)
    generator = GeneratorConfig(seed=7, start_at=datetime.now(UTC), sim_rate=5_000.0)
    report = _produce(config, simulate(generator, records), records, 0.0, None)
    print(
        f"generator: {report.produced:,} records in {report.elapsed_s:.1f} s "
        f"({report.produced / report.elapsed_s:,.0f}/s into the local broker)"
    )
    job_ids = [deploy.submit(config, job)[0] for job in jobs]
    deadline = time.monotonic() + 1_800
    first_at, first, last = None, 0, 0
    while time.monotonic() < deadline:
        last = min(_source_records_read(config, job_id) for job_id in job_ids)
        if first_at is None and last > 0:
            first_at, first = time.monotonic(), last
        if last >= records:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - first_at
    print(
        f"catch-up ({' + '.join(jobs)} running): {last - first:,} records in {elapsed:.1f} s "
        f"after the first was read -> {(last - first) / elapsed:,.0f} records/s end to end"
    )
    for job_id in job_ids:
        deploy.cancel(config, job_id)


def _lag(config: Config, job_ids: list[str]) -> int:
    """Records in the topic that the slower job's source has not read yet."""
    end = sum(p.end_offset for p in health.consumer_lag(config, f"{config.deployment}-lag"))
    return end - min(_source_records_read(config, job_id) for job_id in job_ids)


def sustain(config: Config, rate: float, seconds: float) -> bool:
    """Send at `rate` for `seconds` with both jobs running; print the lag trend (a short hold:
    `make soak` says whether a rate is sustained)."""
    kafka.ensure_topic(config)
    job_ids = [deploy.submit(config, job)[0] for job in ("bronze", "silver_gold")]
    for job_id in job_ids:
        deploy.wait_for_state(config, job_id, {"RUNNING"})
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(2.0):
            samples.append((time.monotonic(), _lag(config, job_ids)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    generator = GeneratorConfig(seed=13, start_at=datetime.now(UTC), sim_rate=rate)
    report = _produce(config, simulate(generator), None, rate, seconds)
    stop.set()
    sampler.join()
    for job_id in job_ids:
        deploy.cancel(config, job_id)
    steady = samples[len(samples) // 3 :]  # the first third is start-up and JIT warm-up
    slope = statistics.linear_regression([t for t, _ in steady], [lag for _, lag in steady]).slope
    sent = report.produced / report.elapsed_s
    is_sustained = slope < 0.02 * sent
    print(
        f"held {sent:,.0f} records/s for {report.elapsed_s:.0f} s: lag "
        f"{', '.join(f'{lag:,}' for _, lag in samples[:: max(1, len(samples) // 6)])} "
        f"(every ~{2 * max(1, len(samples) // 6)} s), trend {slope:+,.0f} records/s -> "
        f"{'keeps up' if is_sustained else 'falls behind'}"
    )
    return is_sustained


def latency(config: Config, rate: float, seconds: float) -> None:
    kafka.ensure_topic(config)
    job_ids = [deploy.submit(config, job)[0] for job in ("bronze", "silver_gold")]
    for job_id in job_ids:
        deploy.wait_for_state(config, job_id, {"RUNNING"})
    generator = GeneratorConfig(
        seed=11, start_at=datetime.now(UTC), sim_rate=rate, late_rate=0.0, malformed_rate=0.0
    )
    report = _produce(config, simulate(generator), None, rate, seconds)
    time.sleep(90)  # let the last windows close and a few checkpoints commit them
    for job_id in job_ids:
        deploy.cancel(config, job_id)

    # A row is visible once the snapshot adding its file commits: latency = commit - event time.
    connection = duckdb.connect()
    connection.execute("create table committed (file varchar, committed_at double)")
    for label, table, column in (
        ("event -> silver", "silver_events", "event_at"),
        ("window end -> gold", "gold_events_per_minute", "window_end"),
    ):
        times = lake_reader.commit_times(config.lake_root, table)
        connection.execute("delete from committed")
        connection.executemany(
            "insert into committed values (?, ?)", [(p, t.timestamp()) for p, t in times.items()]
        )
        files = ", ".join(f"'{path}'" for path in times) or "''"
        figures = (
            connection.execute(
                f"""
            select committed_at - epoch(cast({column} as timestamp)) as latency
            from read_parquet([{files}], filename = true) as rows
            join committed on rows.filename = committed.file
            """
            ).fetchall()
            if times
            else []
        )
        values = sorted(row[0] for row in figures)
        if not values:
            print(f"{label}: no rows")
            continue
        p50 = statistics.median(values)
        p95 = values[int(0.95 * (len(values) - 1))]
        print(
            f"{label} latency at {report.produced / report.elapsed_s:,.0f} records/s: "
            f"p50 {p50:.1f} s, p95 {p95:.1f} s over {len(values):,} rows "
            f"(checkpoint interval {config.checkpoint_interval})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="catch-up backlog; 0 skips")
    parser.add_argument(
        "--sustain",
        type=float,
        nargs="*",
        default=[15_000, 20_000, 22_500, 25_000],
        help="rates (records/s) to hold, in order, until one falls behind",
    )
    parser.add_argument("--sustain-seconds", type=float, default=120)
    parser.add_argument("--rate", type=float, default=5_000, help="latency run's rate; 0 skips")
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--checkpoint-interval", default="10 s")
    parser.add_argument("--lake", type=Path, default=Path(".stack/bench-lake"))
    args = parser.parse_args(argv)
    base = load_config()
    started = stack.up(base)
    try:
        if args.records:
            catch_up(_config("throughput", args.lake, args.checkpoint_interval), args.records)
        best = None
        for rate in args.sustain:
            config = _config("sustain", args.lake, args.checkpoint_interval)
            if not sustain(config, rate, args.sustain_seconds):
                break
            best = rate
        print(
            f"highest rate held for {args.sustain_seconds:.0f} s with lag not growing: "
            f"{best or 0:,.0f} records/s (a short hold; `make soak` for a sustained rate)"
        )
        if args.rate:
            latency(
                _config("latency", args.lake, args.checkpoint_interval), args.rate, args.seconds
            )
    finally:
        if started:
            stack.down(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
