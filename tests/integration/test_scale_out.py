"""Scale-out on a stack of several processes: three KRaft brokers (replication factor 3,
min.insync.replicas 2), two TaskManagers, a topic of six partitions, jobs at parallelism 2. The
stack is this module's own (free ports, its own state directory), started once and stopped at the
end. Each scenario is a seeded generator run with ground truth and ends with the exact comparison
test_faults.py makes (fault_support.assert_lake_matches): bronze holds each Kafka record once,
silver each valid event once, quarantine each malformed record once, gold's closed windows exact.

- rescale: both jobs stopped with a savepoint while records arrive and resumed at parallelism 1,
  then 3, then 2: keyed state (deduplication, windows) is redistributed by key group.
- the broker leading a partition killed (-9): the producer (acks=all) and the jobs' sources carry on
  with the two left; the broker comes back afterwards.
- a TaskManager killed (-9): both jobs restart from their latest checkpoint on the other one.

Each prints its recovery times (`-s` shows them); `pytest -k scale` runs them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import partial

import pytest
from fault_support import (
    CATCH_UP_S,
    JOBS,
    RECORDS,
    BackgroundProducer,
    all_running,
    assert_lake_matches,
    cancel_active,
    deploy_at,
    generator_config,
    kill_9,
    kill_taskmanager_mid_stream,
    lake_counts,
    producing_mid_stream,
    report,
    restarts,
    submit_all,
    wait_for_gold,
    wait_for_lake,
)
from support import own_stack

from generator.ground_truth import load_ground_truth
from generator.simulate import simulate
from pipeline import deploy
from stack import flink, kafka
from stack.config import Config, load_config, private_stack_environ
from stack.processes import wait_until

pytestmark = pytest.mark.integration

BROKERS, TASKMANAGERS, PARTITIONS, PARALLELISM = 3, 2, 6, 2


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory) -> Iterator[Config]:
    state_dir = tmp_path_factory.mktemp("scale-out-stack")
    environ = private_stack_environ(state_dir, kafka_brokers=BROKERS)
    config = load_config(
        environ=environ,
        taskmanagers=TASKMANAGERS,
        kafka_partitions=PARTITIONS,
        parallelism=PARALLELISM,
    )
    with own_stack(config, "scale-out stack"):
        yield config


@pytest.fixture
def scaled_pipeline(scaled_stack: Config, tmp_path) -> Config:
    """The scaled stack pointed at a fresh topic (six partitions, three replicas) and lake, read
    unbounded."""
    topic = f"scale-{uuid.uuid4().hex[:10]}"
    assert kafka.ensure_topic(scaled_stack, topic)
    return replace(
        scaled_stack,
        kafka_topic=topic,
        lake_root=str(tmp_path / "lake"),
        deployment=f"test-{topic}",
        checkpoint_interval="2 s",
        watermark_emit_strategy="on-event",
    )


def vertex_parallelism(config: Config, job_id: str) -> dict[str, int]:
    detail = deploy.rest(config, "GET", f"/jobs/{job_id}")
    return {vertex["name"]: vertex["parallelism"] for vertex in detail["vertices"]}


def taskmanagers_of(config: Config, job_id: str) -> set[str]:
    """Resource ids of the TaskManagers running a subtask of the job."""
    hosts = set()
    for vertex in deploy.rest(config, "GET", f"/jobs/{job_id}")["vertices"]:
        path = f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers"
        hosts |= {tm["taskmanager-id"] for tm in deploy.rest(config, "GET", path)["taskmanagers"]}
    return hosts


def records(seed: int) -> list:
    return list(simulate(generator_config(seed, partitions=PARTITIONS), RECORDS))


def test_scale_topic_is_replicated_on_every_broker(scaled_pipeline: Config):
    metadata = kafka.admin(scaled_pipeline).list_topics(timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    partitions = metadata.topics[scaled_pipeline.kafka_topic].partitions.values()
    assert len(partitions) == PARTITIONS
    assert all(sorted(p.replicas) == [1, 2, 3] and len(p.isrs) == 3 for p in partitions)
    # Leaders are spread: each broker leads some partition.
    assert {p.leader for p in partitions} == {1, 2, 3}


def test_scale_rescale_one_three_two(scaled_pipeline: Config, tmp_path):
    """Deploy both jobs at parallelism 1 and send the first part of a run; while it arrives,
    deploy them at 3 (each stops with a savepoint and resumes from it at the new parallelism);
    send the second part and, while it arrives, deploy at 2; then send the last part. Every
    part is read at a parallelism of its own, with the state the one before left."""
    run = records(7505)
    parts = [run[: len(run) * 2 // 5], run[len(run) * 2 // 5 : len(run) * 4 // 5]]
    parts.append(run[len(run) * 4 // 5 :])
    log: list[str] = []
    config, ids = deploy_at(scaled_pipeline, 1, log)

    def bronze_rows() -> int:
        return lake_counts(scaled_pipeline)["bronze"]

    truth_files = [tmp_path / f"part-{n}.jsonl" for n in range(len(parts))]
    timings: dict[str, float] = {}
    try:
        for part, truth, parallelism in zip(parts, truth_files, (3, 2, None), strict=True):
            producer = BackgroundProducer(config, part, truth, rate=100)
            producer.start()
            if parallelism is None:
                producer.finish()
                break
            before = bronze_rows()
            assert wait_until(lambda n=before: bronze_rows() > n, 120, 0.5)
            assert producer.is_alive(), f"the part was in before the rescale to {parallelism}"
            started = time.monotonic()
            config, ids = deploy_at(config, parallelism, log)
            assert wait_until(partial(all_running, config, ids), 120, 1)
            timings[f"rescaled_to_{parallelism}_after"] = time.monotonic() - started
            for job, job_id in ids.items():
                widths = vertex_parallelism(config, job_id)
                # Every source and keyed operator runs at the new parallelism (a sink's
                # single committer may run at 1).
                assert max(widths.values()) == parallelism, (job, widths)
                assert all(w == parallelism for v, w in widths.items() if "Source" in v), widths
            producer.finish()
        # seq restarts at 0 in each file; only payloads and labels matter here.
        truth = [record for path in truth_files for record in load_ground_truth(path)]
        assert wait_for_lake(config, truth, CATCH_UP_S), lake_counts(config)
        wait_for_gold(config, truth, 60)
    finally:
        cancel_active(config, ids)
    assert sum("with savepoint" in line for line in log) == 2 * len(JOBS), "\n".join(log)
    report("rescale 1 -> 3 -> 2 (jobs.py deploy: stop with savepoint, resume)", **timings)
    assert_lake_matches(config, truth)


def partition_leader(config: Config, partition: int) -> int:
    metadata = kafka.admin(config).list_topics(config.kafka_topic, timeout=10)
    return metadata.topics[config.kafka_topic].partitions[partition].leader


def test_scale_fault_partition_leader_killed(scaled_pipeline: Config, tmp_path):
    """kill -9 the broker leading partition 0 mid-stream; keep it down until the lake has caught
    up (the cluster runs on two brokers: min.insync.replicas 2 still admits writes)."""
    config = scaled_pipeline
    ids = submit_all(config)
    leader = partition_leader(config, 0)
    broker = kafka.service(config, leader)
    try:
        producer = producing_mid_stream(config, records(7606), tmp_path / "truth.jsonl", 200)
        killed_at = kill_9(broker)
        assert wait_until(lambda: broker.pid() is None, 30, 0.2)
        assert wait_until(lambda: partition_leader(config, 0) not in (leader, -1), 60, 0.5)
        new_leader_after = time.monotonic() - killed_at
        truth = producer.finish()
        assert wait_for_lake(config, truth, CATCH_UP_S), lake_counts(config)
        caught_up = time.monotonic() - killed_at
        wait_for_gold(config, truth, 60)
        restarted = restarts(config, ids)
        states = {job: deploy.job_state(config, job_id) for job, job_id in ids.items()}
    finally:
        cancel_active(config, ids)
        kafka.start(config)  # the killed broker rejoins: the next scenario has three again
        kafka.wait_healthy(config)
    report(
        f"broker {leader} (leader of partition 0) kill -9 ({restarted})",
        new_leader_after=new_leader_after,
        lake_caught_up_after=caught_up,
    )
    assert states == dict.fromkeys(JOBS, "RUNNING")
    assert_lake_matches(config, truth)


def test_scale_fault_taskmanager_killed(scaled_pipeline: Config, tmp_path):
    """kill -9 one of two TaskManagers mid-stream: both jobs have subtasks on it (slots are
    spread), fail, and restart from their latest checkpoint on the slots left."""
    config = scaled_pipeline
    ids = submit_all(config)
    victim = flink.taskmanagers(config)[-1]
    try:
        for job_id in ids.values():
            assert victim.name in taskmanagers_of(config, job_id)
        recovery = kill_taskmanager_mid_stream(
            config, ids, victim, records(7707), tmp_path / "truth.jsonl", 200, False
        )
    finally:
        cancel_active(config, ids)
        flink.start(config)
        flink.wait_healthy(config)
    report(f"one of two TaskManagers kill -9 ({recovery.restarts})", **recovery.seconds)
    assert_lake_matches(config, recovery.truth)
