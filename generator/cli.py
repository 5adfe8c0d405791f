"""Typer-compatible commands: `generate` (simulated shop) and `replay` (REES46 CSV).

Each command parses its options, builds the records and hands them to generator.produce;
errors become a message on stderr and a non-zero exit code (1 = records not delivered,
2 = bad options or Kafka unreachable). Where to send (bootstrap servers, topic, partitions in a
dry run) comes from the typed config, stack/config.py, as for the Flink jobs; flags override it.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from confluent_kafka import Producer

from generator.contract import format_event_at, to_epoch_ms
from generator.ground_truth import GroundTruthWriter
from generator.model import GeneratorConfig, Record
from generator.produce import (
    DeliveryStats,
    KafkaSettings,
    KafkaUnavailableError,
    RunReport,
    StopFlag,
    log_stderr,
    open_producer,
    send_records,
    stop_on_signals,
    topic_partition_count,
)
from generator.rees46 import replay_records
from generator.simulate import Simulation
from stack.config import Config, ConfigError, load_config

BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap-servers",
        help="Kafka bootstrap servers (default: the config's, 127.0.0.1:<kafka_port>).",
        show_default=False,
    ),
]
TopicOption = Annotated[
    str | None,
    typer.Option(help="Kafka topic (default: the config's kafka_topic).", show_default=False),
]
GroundTruthOption = Annotated[
    Path | None,
    typer.Option(
        help="Write every produced record with its fault label to this JSON Lines file "
        "(+ <file>.summary.json).",
        dir_okay=False,
    ),
]
CompressionOption = Annotated[str, typer.Option(help="lz4, zstd, snappy, gzip or none.")]
ProgressOption = Annotated[float, typer.Option(help="Seconds between progress lines.")]
DryRunOption = Annotated[
    bool,
    typer.Option(
        help="Don't touch Kafka: write the ground truth (or the payloads to stdout) only."
    ),
]


def generate(
    count: Annotated[
        int | None, typer.Option(help="Kafka records to produce, faulty ones included.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many wall-clock seconds.")
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Records per wall-clock second (0 = as fast as possible).")
    ] = 0.0,
    bootstrap_servers: BootstrapOption = None,
    topic: TopicOption = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: random, printed on stderr).")
    ] = None,
    start_at: Annotated[
        str | None,
        typer.Option(help="Simulated time of the first record, ISO-8601 (default: now, UTC)."),
    ] = None,
    sim_rate: Annotated[
        float | None,
        typer.Option(
            help="Records per simulated second (default: --rate, so event times follow the "
            "wall clock, or 100 when --rate is 0)."
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            help="Partitions of the topic (default: asked from Kafka; the config's "
            "kafka_partitions in a dry run)."
        ),
    ] = None,
    duplicate_rate: Annotated[float, typer.Option(help="Share of exact re-sends.")] = 0.01,
    out_of_order_rate: Annotated[
        float, typer.Option(help="Share of events up to 2 s behind the stream.")
    ] = 0.02,
    late_rate: Annotated[
        float, typer.Option(help="Share of late events (after the first 20% of the run).")
    ] = 0.005,
    late_by_minutes: Annotated[
        float, typer.Option(help="Late events are at least this far behind.")
    ] = 30.0,
    malformed_rate: Annotated[
        float, typer.Option(help="Share of payloads silver must quarantine.")
    ] = 0.005,
    bot_rate: Annotated[float, typer.Option(help="Share of new sessions that are bots.")] = 0.002,
    hot_product_share: Annotated[
        float, typer.Option(help="Share of product views on the high-interest product.")
    ] = 0.2,
    hot_product_purchase_rate: Annotated[
        float, typer.Option(help="Purchases per view of the high-interest product.")
    ] = 0.01,
    ground_truth: GroundTruthOption = None,
    compression: CompressionOption = "lz4",
    linger_ms: Annotated[int, typer.Option(help="Producer linger.ms.")] = 20,
    batch_size: Annotated[int, typer.Option(help="Producer batch.size in bytes.")] = 1_000_000,
    progress_interval: ProgressOption = 5.0,
    dry_run: DryRunOption = False,
) -> None:
    """Simulate shop sessions (with labelled faults) and send them to Kafka."""
    if dry_run and count is None:
        _fail("--dry-run needs --count")
    stack_config = _load_config()
    bootstrap_servers = bootstrap_servers or stack_config.bootstrap_servers
    topic = topic or stack_config.kafka_topic
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    start = _parse_start_at(start_at) if start_at else _now_ms()
    if sim_rate is None:
        sim_rate = rate if rate > 0 else 100.0
    try:
        config = GeneratorConfig(
            seed=seed,
            start_at=start,
            sim_rate=sim_rate,
            partitions=partitions or stack_config.kafka_partitions,
            # a user's sessions are as far apart as the marts' sessionization splits them
            session_gap=timedelta(minutes=stack_config.session_timeout_minutes),
            duplicate_rate=duplicate_rate,
            out_of_order_rate=out_of_order_rate,
            late_rate=late_rate,
            late_by=timedelta(minutes=late_by_minutes),
            malformed_rate=malformed_rate,
            bot_rate=bot_rate,
            hot_product_view_share=hot_product_share,
            hot_product_purchase_rate=hot_product_purchase_rate,
        )
    except ValueError as error:
        _fail(str(error))
    settings = _kafka_settings(bootstrap_servers, topic, compression, linger_ms, batch_size)
    stats = DeliveryStats()
    producer = None
    if not dry_run:
        producer = _connect(settings, stats)
        if partitions is None:
            partitions = _existing_topic_partitions(producer, topic)
            config = dataclasses.replace(config, partitions=partitions)
    log_stderr(
        f"generate: seed {seed}, start {format_event_at(to_epoch_ms(start))}, "
        f"{config.sim_rate:g} records per simulated second -> "
        + ("dry run" if dry_run else f"{topic} at {bootstrap_servers}")
    )
    simulation = Simulation(config)
    run_info = {
        "source": "simulator",
        "topic": topic,
        "generator": _jsonable(dataclasses.asdict(config)),
    }
    report = _run(
        simulation.records(count),
        producer,
        stats,
        settings,
        count=count,
        duration=duration,
        rate=rate,
        ground_truth=ground_truth,
        run_info=run_info,
        summary_extra=simulation.labels,  # the bots are known once the run ends
        progress_interval=progress_interval,
    )
    _finish(report)


def replay(
    file: Annotated[
        Path,
        typer.Argument(help="REES46 CSV (.csv or .csv.gz).", exists=True, dir_okay=False),
    ],
    bootstrap_servers: BootstrapOption = None,
    topic: TopicOption = None,
    shift_to_now: Annotated[
        bool, typer.Option(help="Shift event times so the first event happens now.")
    ] = False,
    speedup: Annotated[
        float,
        typer.Option(help="Send in event-time order this many times faster (0 = no pacing)."),
    ] = 0.0,
    limit: Annotated[int | None, typer.Option(help="Replay only the first N rows.")] = None,
    ground_truth: GroundTruthOption = None,
    compression: CompressionOption = "lz4",
    progress_interval: ProgressOption = 5.0,
    dry_run: DryRunOption = False,
) -> None:
    """Replay a REES46 e-commerce CSV into the topic, in the same event contract."""
    if speedup < 0:
        _fail("--speedup must be >= 0")
    stack_config = _load_config()
    bootstrap_servers = bootstrap_servers or stack_config.bootstrap_servers
    topic = topic or stack_config.kafka_topic
    settings = _kafka_settings(bootstrap_servers, topic, compression, 20, 1_000_000)
    stats = DeliveryStats()
    producer = None
    if not dry_run:
        producer = _connect(settings, stats)
        _existing_topic_partitions(producer, topic)
    stop = StopFlag()
    records = replay_records(
        file,
        shift_to_ms=to_epoch_ms(_now_ms()) if shift_to_now else None,
        speedup=speedup,
        limit=limit,
        should_stop=stop,
    )
    log_stderr(
        f"replay: {file} -> " + ("dry run" if dry_run else f"{topic} at {bootstrap_servers}")
    )
    run_info = {"source": "rees46", "topic": topic, "file": str(file)}
    try:
        report = _run(
            records,
            producer,
            stats,
            settings,
            ground_truth=ground_truth,
            run_info=run_info,
            progress_interval=progress_interval,
            stop=stop,
        )
    except ValueError as error:  # not a REES46 file, unreadable row
        _fail(str(error))
    _finish(report)


# --------------------------------------------------------------------------------- plumbing


def _run(
    records: Iterable[Record],
    producer: Producer | None,
    stats: DeliveryStats,
    settings: KafkaSettings,
    *,
    count: int | None = None,
    duration: float | None = None,
    rate: float = 0.0,
    ground_truth: Path | None,
    run_info: dict[str, Any],
    summary_extra: Callable[[], dict[str, Any]] = dict,
    progress_interval: float,
    stop: StopFlag | None = None,
) -> RunReport:
    """Send (or with no producer, only record) `records`; always closes the ground truth."""
    writer = GroundTruthWriter(ground_truth, run_info) if ground_truth else None
    stop = stop or StopFlag()
    try:
        with stop_on_signals(stop):
            if producer is None:
                report = _write_only(records, count, writer, stop)
            else:
                report = send_records(
                    producer,
                    stats,
                    records,
                    settings.topic,
                    count=count,
                    duration_s=duration,
                    rate=rate,
                    ground_truth=writer,
                    stop=stop,
                    progress_interval_s=progress_interval,
                    flush_timeout_s=settings.message_timeout_ms / 1000 + 10,
                )
    except KeyboardInterrupt:  # a second SIGINT/SIGTERM while producing
        log_stderr("aborted: records still queued in the producer were dropped")
        raise typer.Exit(130) from None
    finally:
        if writer is not None:
            writer.close(**summary_extra())
    if writer is not None:
        log_stderr(f"ground truth: {writer.path}")
    return report


def _write_only(
    records: Iterable[Record], count: int | None, writer: GroundTruthWriter | None, stop: StopFlag
) -> RunReport:
    report = RunReport(is_dry_run=True)
    started = time.monotonic()
    out = sys.stdout.buffer
    for record in records:
        if writer is not None:
            writer.write(record)
        else:
            out.write(record.value + b"\n")
        if record.fault is not None:
            report.faults[record.fault] += 1
        report.produced += 1
        if stop() or (count is not None and report.produced >= count):
            break
    out.flush()
    report.elapsed_s = time.monotonic() - started
    return report


def _finish(report: RunReport) -> None:
    log_stderr(report.describe())
    if not report.ok:
        raise typer.Exit(1)


def _load_config() -> Config:
    try:
        return load_config()
    except ConfigError as error:
        _fail(str(error))


def _connect(settings: KafkaSettings, stats: DeliveryStats) -> Producer:
    try:
        return open_producer(settings, stats)
    except KafkaUnavailableError as error:
        _fail(
            f"{error}. Is the stack up (python jobs.py up)? The address is the config's "
            "kafka_bootstrap_servers, else 127.0.0.1:<kafka_port> (CLICKSTREAM_* variables, "
            "clickstream.toml), unless --bootstrap-servers says otherwise."
        )


def _existing_topic_partitions(producer: Producer, topic: str) -> int:
    partitions = topic_partition_count(producer, topic)
    if partitions is None:
        _fail(f"topic {topic!r} does not exist and the broker did not create it")
    return partitions


def _kafka_settings(
    bootstrap_servers: str, topic: str, compression: str, linger_ms: int, batch_size: int
) -> KafkaSettings:
    settings = KafkaSettings(bootstrap_servers, topic, compression, linger_ms, batch_size)
    try:
        settings.producer_config()
    except ValueError as error:
        _fail(str(error))
    return settings


def _parse_start_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--start-at: not an ISO-8601 timestamp: {text!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            value = format_event_at(to_epoch_ms(value))
        elif isinstance(value, timedelta):
            name, value = f"{name}_s", value.total_seconds()
        out[name] = value
    return out


def _fail(message: str) -> NoReturn:
    log_stderr(f"error: {message}")
    raise typer.Exit(2)
