"""Faults on the real stack: the TaskManager killed (-9), the broker stopped and restarted, both
jobs stopped with a savepoint and resumed, the generator killed (-9) part-way. Each scenario is a
seeded generator run with ground truth, read by both jobs unbounded, and ends with every
per-record layer equal to the ground truth: bronze holds each Kafka record once, silver each
valid event once (none lost, none twice), quarantine each malformed record once with its reason.

The generator runs with `late_rate=0`: which records are late after a restart depends on when
each partition resumes, so lateness is not part of these checks (test_pipeline covers it on a
bounded run); `late/events` must stay empty. Unbounded jobs never close their last windows, so
gold is compared only for windows that ended a minute before the last event time: those must
equal the ground truth exactly (a window emitted twice or lost across the fault would show).

Each scenario prints how long recovery took (`-s` shows it). Names all contain `fault`:
`pytest -k fault` runs them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from fault_support import (
    CATCH_UP_S,
    JOBS,
    RECORDS,
    SIM_RATE,
    BackgroundProducer,
    assert_lake_matches,
    cancel_active,
    completed_checkpoints,
    generator_config,
    kill_taskmanager_mid_stream,
    lake_counts,
    let_exec_settle,
    load_lines,
    report,
    restarts,
    submit_all,
    tasks_running,
    to_truth,
    unbounded,
    wait_for_gold,
    wait_for_lake,
)
from support import produce

from generator.faults import default_partition
from generator.ground_truth import load_ground_truth
from generator.simulate import simulate
from pipeline import deploy, lake
from stack import flink, kafka
from stack.config import Config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------- scenarios


def test_fault_taskmanager_killed_mid_stream(pipeline_config: Config, tmp_path):
    """kill -9 the only TaskManager while both jobs read a live stream, start a new one: the
    JobManager restarts both jobs from their latest checkpoint (exponential-delay strategy),
    the records after it are read again, and each lands once."""
    config = unbounded(pipeline_config)
    records = list(simulate(generator_config(seed=7101), RECORDS))
    ids = submit_all(config)
    try:
        recovery = kill_taskmanager_mid_stream(
            config, ids, flink.taskmanagers(config)[0], records, tmp_path / "truth.jsonl", 300, True
        )
    finally:
        cancel_active(config, ids)
        flink.start(config)
        flink.wait_healthy(config)
    report(f"TaskManager kill -9 ({recovery.restarts})", **recovery.seconds)
    assert_lake_matches(config, recovery.truth)


def test_fault_kafka_broker_restart_mid_stream(pipeline_config: Config, tmp_path):
    """Stop the broker while both jobs read, keep it down for two checkpoints (up to 20 s), start
    it again and produce the rest: the sources reconnect and resume from their positions."""
    config = unbounded(pipeline_config)
    records = list(simulate(generator_config(seed=7202), RECORDS))
    first, second = records[: RECORDS // 2], records[RECORDS // 2 :]
    broker = kafka.service(config)
    ids = submit_all(config)
    try:
        produce(config, first, tmp_path / "first.jsonl")
        assert wait_until(lambda: lake_counts(config)["silver"] > 0, 120, 0.5)
        checkpoints = {job: completed_checkpoints(config, i) for job, i in ids.items()}
        stopped_at = time.monotonic()
        assert broker.stop()
        # Down for a while: checkpoints go on (the offsets are in Flink's state), or not.
        checkpoints_while_down = wait_until(
            lambda: all(
                completed_checkpoints(config, i) > checkpoints[j] + 1 for j, i in ids.items()
            ),
            20,
            0.5,
        )
        down_for = time.monotonic() - stopped_at
        assert kafka.start(config)
        let_exec_settle(broker)
        kafka.wait_healthy(config)
        back_at = time.monotonic()
        produce(config, second, tmp_path / "second.jsonl")
        truth = load_ground_truth(tmp_path / "first.jsonl") + load_ground_truth(
            tmp_path / "second.jsonl"
        )
        # seq restarts at 0 in the second file; only payloads and labels matter here.
        assert wait_for_lake(config, truth, CATCH_UP_S), lake_counts(config)
        caught_up = time.monotonic() - back_at
        wait_for_gold(config, truth, 60)
        restarted = restarts(config, ids)
        states = {job: deploy.job_state(config, job_id) for job, job_id in ids.items()}
    finally:
        if broker.pid() is None and kafka.start(config):
            let_exec_settle(broker)
            kafka.wait_healthy(config)
        cancel_active(config, ids)
    report(
        f"Kafka broker stop/start ({restarted}; checkpoints while down: {checkpoints_while_down})",
        broker_down_for=down_for,
        lake_caught_up_after_broker_back=caught_up,
    )
    assert states == dict.fromkeys(JOBS, "RUNNING")
    assert_lake_matches(config, truth)


def test_fault_both_jobs_stop_with_savepoint_and_resume(pipeline_config: Config, tmp_path):
    """The upgrade path for both jobs (test_exactly_once covers silver_gold alone): stop each
    with a savepoint while records arrive, resume from it; bronze holds every Kafka record once
    (its source offsets travel in the savepoint), silver and quarantine every event once."""
    config = unbounded(pipeline_config)
    records = list(simulate(generator_config(seed=7303), RECORDS))
    ids = submit_all(config)
    resumed: dict[str, str] = {}
    try:
        producer = BackgroundProducer(config, records, tmp_path / "truth.jsonl", rate=300)
        producer.start()
        assert wait_until(lambda: lake_counts(config)["bronze"] > 0, 120, 0.5)
        assert producer.is_alive(), "the producer finished before the stop"
        stopped_at = time.monotonic()
        savepoints = {
            job: deploy.stop_with_savepoint(config, job_id) for job, job_id in ids.items()
        }
        stopped = time.monotonic() - stopped_at
        at_stop = lake_counts(config)
        for job, savepoint in savepoints.items():
            resumed[job], started = deploy.submit(config, job, savepoint=savepoint)
            assert started and resumed[job] != ids[job]
        assert wait_until(lambda: all(tasks_running(config, i) for i in resumed.values()), 120, 0.5)
        running = time.monotonic() - stopped_at
        truth = producer.finish()
        assert wait_for_lake(config, truth, CATCH_UP_S), lake_counts(config)
        caught_up = time.monotonic() - stopped_at
        wait_for_gold(config, truth, 60)
    finally:
        cancel_active(config, {**ids, **{f"{job} resumed": i for job, i in resumed.items()}})
    report(
        f"stop with savepoint and resume (lake at stop {at_stop})",
        both_stopped_after=stopped,
        both_running_again_after=running,
        lake_caught_up_after=caught_up,
    )
    assert at_stop["bronze"] < RECORDS, "the stop came after the last record"
    assert_lake_matches(config, truth)


def topic_end_offsets(config: Config) -> dict[int, int]:
    consumer = Consumer(
        {"bootstrap.servers": config.bootstrap_servers, "group.id": f"offsets-{config.deployment}"}
    )
    try:
        return {
            partition: consumer.get_watermark_offsets(
                TopicPartition(config.kafka_topic, partition), timeout=10
            )[1]
            for partition in range(config.kafka_partitions)
        }
    finally:
        consumer.close()


def settled_end_offsets(config: Config) -> dict[int, int]:
    """End offsets once two reads half a second apart agree: a produce request the killed
    process had already sent may still be appended just after it died."""
    reads: list[dict[int, int]] = []

    def stable() -> bool:
        reads.append(topic_end_offsets(config))
        return len(reads) > 1 and reads[-1] == reads[-2]

    assert wait_until(stable, 15, interval_s=0.5)
    return reads[-1]


def test_fault_generator_killed_part_way(pipeline_config: Config, tmp_path):
    """kill -9 `jobs.py generate` part-way. The generator is at most once on a crash: records
    still in its producer's buffer are lost before Kafka, and its ground-truth file (written
    through a buffer) is incomplete. The run is deterministic, though, so the records it would
    have sent are known: what reached Kafka must be, per partition, exactly a prefix of them
    in order (the idempotent producer never writes a batch after a lost one). Sending the
    rest then makes the topic the complete run, and the lake must equal it exactly: nothing
    lost or doubled downstream of Kafka."""
    config = unbounded(pipeline_config)
    seed = 7404
    generator = generator_config(seed)
    partitions = config.kafka_partitions
    ids = submit_all(config)
    command = [sys.executable, "jobs.py", "generate", "--count", str(RECORDS)]
    command += ["--seed", str(seed), "--start-at", generator.start_at.isoformat()]
    command += ["--sim-rate", str(SIM_RATE), "--rate", "500", "--late-rate", "0"]
    command += ["--partitions", str(partitions), "--topic", config.kafka_topic]
    command += ["--bootstrap-servers", config.bootstrap_servers]
    command += ["--ground-truth", str(tmp_path / "killed.jsonl")]
    stderr = (tmp_path / "generate.log").open("w")
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=stderr, stderr=stderr)
    try:
        assert wait_until(
            lambda: process.poll() is not None or sum(topic_end_offsets(config).values()) > 1_000,
            60,
            0.2,
        )
        assert process.poll() is None, (tmp_path / "generate.log").read_text()
        process.kill()  # SIGKILL: no flush, no summary
        process.wait(10)
        killed_at = time.monotonic()

        delivered = settled_end_offsets(config)
        assert wait_until(lambda: lake_counts(config)["bronze"] == sum(delivered.values()), 120, 1)
        bronze_caught_up = time.monotonic() - killed_at

        # The complete run, as the generator would have sent it, and each record's partition.
        full = list(simulate(generator, RECORDS))
        # The lines the killed generator got to write agree with the run rebuilt here.
        written = (tmp_path / "killed.jsonl").read_bytes().split(b"\n")[:-1]
        assert [line for line in load_lines(written)] == [
            (r.key, r.value.decode()) for r in full[: len(written)]
        ]
        by_partition: dict[int, list[int]] = {p: [] for p in range(partitions)}
        for index, record in enumerate(full):
            target = record.partition
            if target is None:
                target = default_partition(record.key, partitions)
            by_partition[target].append(index)
        connection = lake.connect(config.lake_root)
        for partition, indexes in by_partition.items():
            got = connection.execute(
                "select kafka_key, raw_payload from bronze_events where kafka_partition = ? "
                "order by kafka_offset",
                [partition],
            ).fetchall()
            want = [(full[i].key, full[i].value.decode()) for i in indexes[: len(got)]]
            assert got == want, f"partition {partition}: not a prefix of the run, in order"
        lost = sorted(i for p, ix in by_partition.items() for i in ix[delivered[p] :])
        assert 0 < len(lost) < RECORDS

        # The rest of the run, in the generator's order, to the same partitions.
        produce(config, [full[i] for i in lost], tmp_path / "rest.jsonl")
        truth = to_truth(full)
        assert wait_for_lake(config, truth, CATCH_UP_S), lake_counts(config)
        caught_up = time.monotonic() - killed_at
        wait_for_gold(config, truth, 60)
    finally:
        if process.poll() is None:
            process.kill()
        stderr.close()
        cancel_active(config, ids)
    report(
        f"generator kill -9 ({sum(delivered.values())} of {RECORDS} records had reached "
        f"Kafka; from record #{lost[0]} on, {len(lost)} never got there and were sent by the "
        "test)",
        bronze_caught_up_after=bronze_caught_up,
        lake_complete_after=caught_up,
    )
    assert_lake_matches(config, truth)
