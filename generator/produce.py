"""Sending records to Kafka: an idempotent, batching, compressing producer; rate limiting,
bounded or unbounded runs, progress on stderr, and a clean flush on SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from confluent_kafka import KafkaError, KafkaException, Producer

from generator.ground_truth import GroundTruthWriter
from generator.model import Record

COMPRESSIONS = ("lz4", "zstd", "snappy", "gzip", "none")
MAX_ERRORS_KEPT = 10


def log_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class KafkaUnavailableError(RuntimeError):
    """The brokers could not be reached or the producer could not be created."""


@dataclass(frozen=True)
class KafkaSettings:
    """Where and how to produce; the address and topic come from the typed config (stack/config.py)
    unless the caller says otherwise."""

    bootstrap_servers: str
    topic: str
    compression: str = "lz4"
    linger_ms: int = 20
    batch_size: int = 1_000_000  # bytes per partition batch (broker limit ~1 MiB)
    message_timeout_ms: int = 120_000  # a record not acknowledged by then counts as failed

    def producer_config(self) -> dict[str, object]:
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}")
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": "clickstream-generator",
            "enable.idempotence": True,  # no duplicates or reordering from producer retries
            "acks": "all",
            "compression.type": self.compression,
            "linger.ms": self.linger_ms,
            "batch.size": self.batch_size,
            "batch.num.messages": 100_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "partitioner": "murmur2_random",  # same key -> partition mapping as Java clients
            "message.timeout.ms": self.message_timeout_ms,
            "delivery.report.only.error": True,  # callbacks only for failures: cheap hot loop
        }


@dataclass
class DeliveryStats:
    """Filled by librdkafka callbacks (served from poll/flush)."""

    failed: int = 0  # produced but not acknowledged
    rejected: int = 0  # refused by produce() itself
    errors: Counter[str] = field(default_factory=Counter)  # distinct error -> occurrences
    fatal: str | None = None

    def on_delivery(self, error: KafkaError | None, _message: object) -> None:
        if error is not None:
            self.failed += 1
            self.note(str(error))

    def on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self.fatal = str(error)
        elif error.code() != KafkaError._TRANSPORT:  # broker down/up: librdkafka logs those
            self.note(str(error))

    def note(self, error: str) -> None:
        if error in self.errors or len(self.errors) < MAX_ERRORS_KEPT:
            self.errors[error] += 1


class StopFlag:
    """Set by a signal handler (or by the caller); the send loop checks it between records."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        self.reason = reason

    def __call__(self) -> bool:
        return self.reason is not None


@dataclass
class RunReport:
    produced: int = 0  # records handed to the producer
    failed: int = 0  # records Kafka did not acknowledge
    rejected: int = 0  # records the producer refused outright (not counted as produced)
    undelivered: int = 0  # records still queued when the flush gave up
    elapsed_s: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    stopped_by: str | None = None  # signal or fatal error that ended the run early
    is_dry_run: bool = False  # records were only written out, not sent

    @property
    def delivered(self) -> int:
        return self.produced - self.failed - self.undelivered

    @property
    def ok(self) -> bool:
        return (
            self.failed == 0
            and self.rejected == 0
            and self.undelivered == 0
            and not self.stopped_by_error
        )

    @property
    def stopped_by_error(self) -> bool:
        return self.stopped_by is not None and self.stopped_by.startswith("fatal")

    def describe(self) -> str:
        rate = self.produced / self.elapsed_s if self.elapsed_s > 0 else 0.0
        faults = ", ".join(f"{name} {count:,}" for name, count in sorted(self.faults.items()))
        if self.is_dry_run:
            return f"wrote {self.produced:,} records ({self.elapsed_s:.1f} s)" + (
                f"; faults: {faults}" if faults else ""
            )
        lines = [
            f"sent {self.delivered:,} of {self.produced:,} records in {self.elapsed_s:.1f} s "
            f"({rate:,.0f}/s); failed {self.failed:,}, rejected {self.rejected:,}, "
            f"undelivered {self.undelivered:,}" + (f"; faults: {faults}" if faults else "")
        ]
        if self.stopped_by:
            lines.append(f"stopped early: {self.stopped_by}")
        lines.extend(f"error ({count:,}x): {error}" for error, count in self.errors.items())
        return "\n".join(lines)


# librdkafka warnings a freshly started broker causes while it loads its coordinator state; the
# producer retries every 500 ms and sends once it has its producer id.
TRANSIENT_LOG_MESSAGES = ("Coordinator load in progress", "Coordinator not available")


@dataclass
class LibrdkafkaLog:
    """The producer's `logger`: librdkafka's log lines go to `write` (stderr), except the GETPID
    warnings of a broker still loading its coordinator, which are retried and resolve on their
    own. Were they to last, records would time out and be reported as failed deliveries."""

    write: Callable[[str], None] = log_stderr
    suppressed: int = 0

    def log(self, level: int, fmt: str, *args: object) -> None:
        # confluent-kafka calls log(level, "%s [%s] %s", facility, client name, message).
        message = fmt % args if args else fmt
        if message.startswith("GETPID ") and any(
            transient in message for transient in TRANSIENT_LOG_MESSAGES
        ):
            self.suppressed += 1
            return
        self.write(f"librdkafka {logging.getLevelName(level).lower()}: {message}")


def _host_port(server: str) -> tuple[str, int]:
    """("host", port) of one bootstrap server: host:port, [v6]:port, with or without a
    protocol:// prefix; 9092 when no port is given."""
    address = server.strip().rpartition("://")[2]
    host, colon, port = address.rpartition(":")
    if colon and port.isdigit():
        return host.strip("[]"), int(port)
    return address.strip("[]"), 9092


def require_reachable(bootstrap_servers: str, timeout_s: float = 3.0) -> None:
    """KafkaUnavailableError unless some bootstrap server accepts a TCP connection. A closed port
    fails at once, where librdkafka would retry (and log every retry) until a timeout."""
    reasons: dict[str, str] = {}
    for server in bootstrap_servers.split(","):
        host, port = _host_port(server)
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except OSError as error:
            reasons[f"{host}:{port}"] = (error.strerror or str(error)).lower()
    if len(reasons) == 1:
        detail = next(iter(reasons.values()))
    else:
        detail = "; ".join(f"{address} {reason}" for address, reason in reasons.items())
    raise KafkaUnavailableError(f"Kafka unreachable at {bootstrap_servers}: {detail}")


def open_producer(
    settings: KafkaSettings, stats: DeliveryStats, timeout_s: float = 10.0
) -> Producer:
    """A connected producer; KafkaUnavailableError if no broker answers in time."""
    require_reachable(settings.bootstrap_servers)
    config = settings.producer_config()
    config["on_delivery"] = stats.on_delivery
    config["error_cb"] = stats.on_error
    config["logger"] = LibrdkafkaLog()
    try:
        producer = Producer(config)
        producer.list_topics(timeout=timeout_s)
    except KafkaException as error:
        raise KafkaUnavailableError(
            f"Kafka unreachable at {settings.bootstrap_servers}: {error.args[0]}"
        ) from error
    return producer


def topic_partition_count(producer: Producer, topic: str, wait_s: float = 5.0) -> int | None:
    """Partitions of `topic`; None if it still does not exist after `wait_s` (the metadata
    request lets a broker with auto.create.topics.enable create it meanwhile)."""
    deadline = time.monotonic() + wait_s
    while True:
        metadata = producer.list_topics(topic, timeout=15.0).topics.get(topic)
        if metadata is not None and metadata.error is None and metadata.partitions:
            return len(metadata.partitions)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


@contextmanager
def stop_on_signals(stop: StopFlag, log: Callable[[str], None] = log_stderr) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` (the run then flushes); a second signal aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if stop():
            raise KeyboardInterrupt(name)
        stop.set(name)
        log(f"{name}: stopping, flushing what was produced (send again to abort)")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def send_records(
    producer: Producer,
    stats: DeliveryStats,
    records: Iterable[Record],
    topic: str,
    *,
    count: int | None = None,
    duration_s: float | None = None,
    rate: float = 0.0,
    ground_truth: GroundTruthWriter | None = None,
    stop: StopFlag | None = None,
    progress_interval_s: float = 5.0,
    flush_timeout_s: float | None = None,
    log: Callable[[str], None] = log_stderr,
) -> RunReport:
    """Produce `records` (at most `count`, for at most `duration_s`, at most `rate` per second;
    0 = as fast as possible) until exhausted or stopped, then flush and report."""
    stop = stop or StopFlag()
    report = RunReport()
    faults = report.faults
    produce = producer.produce
    poll = producer.poll
    write = ground_truth.write if ground_truth is not None else None
    check_every = 100 if rate <= 0 else max(1, min(100, int(rate / 200)))
    started = time.monotonic()
    deadline = started + duration_s if duration_s is not None else None
    next_progress = started + progress_interval_s
    produced = 0
    if count is not None:
        records = islice(records, count)
    for record in records:
        key, value, partition, fault, _reason, _event_id = record
        while True:
            try:
                if partition is None:
                    produce(topic, value, key)
                else:
                    produce(topic, value, key, partition)
                sent = True
                break
            except BufferError:  # local queue full: let librdkafka drain it
                poll(0.05)
            except KafkaException as error:  # rejected locally, e.g. an unknown partition
                stats.rejected += 1
                stats.note(str(error.args[0]))
                sent = False
                break
        if not sent:
            continue
        produced += 1
        if write is not None:
            write(record)
        if fault is not None:
            faults[fault] += 1
        if produced % check_every:
            continue
        # every check_every records: serve callbacks, then limits, pacing and progress
        poll(0)
        now = time.monotonic()
        if rate > 0:
            while (wait := started + produced / rate - now) > 0 and not stop():
                time.sleep(min(wait, 0.1))
                now = time.monotonic()
        if stop() or stats.fatal or (deadline is not None and now >= deadline):
            break
        if now >= next_progress:
            next_progress = now + progress_interval_s
            log(_progress(produced, now - started, len(producer), stats.failed))
    report.produced = produced
    report.stopped_by = stop.reason or (f"fatal error: {stats.fatal}" if stats.fatal else None)
    report.undelivered = _flush(producer, stats, flush_timeout_s, progress_interval_s, log)
    report.elapsed_s = time.monotonic() - started
    report.failed = stats.failed
    report.rejected = stats.rejected
    report.errors = Counter(stats.errors)
    return report


def _flush(
    producer: Producer,
    stats: DeliveryStats,
    timeout_s: float | None,
    progress_interval_s: float,
    log: Callable[[str], None],
) -> int:
    """Wait for every queued record to be acknowledged (or to fail); returns those left."""
    started = time.monotonic()
    deadline = started + (timeout_s if timeout_s is not None else 300.0)
    next_progress = started + progress_interval_s
    try:
        while len(producer) and time.monotonic() < deadline and not stats.fatal:
            producer.flush(0.5)  # short slices so signal handlers can run
            if time.monotonic() >= next_progress:
                next_progress += progress_interval_s
                log(f"flushing: {len(producer):,} records in flight")
    except KeyboardInterrupt:
        log("flush aborted")
    return len(producer)


def _progress(produced: int, elapsed_s: float, in_flight: int, failed: int) -> str:
    rate = produced / elapsed_s if elapsed_s > 0 else 0.0
    return (
        f"{produced:,} records produced ({rate:,.0f}/s), {in_flight:,} in flight, {failed:,} failed"
    )
