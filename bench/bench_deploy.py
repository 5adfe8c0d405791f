"""Benchmark `jobs.py deploy` on the local stack (issue 16's targets: an unchanged deploy <= 3 s,
a compatible upgrade of both jobs stop -> new version running <= 30 s):

1. first deploy of both jobs (compile, EXECUTE PLAN, RUNNING + a checkpoint);
2. `python jobs.py deploy` with nothing changed, as a user runs it (a fresh process: imports,
   lint, fingerprint; no JVM);
3. a compatible upgrade of both jobs (silver_gold gets a new gold table, bronze a new
   checkpoint timeout), timed in parts: compile + match (before anything stops), and per job
   stop with savepoint -> new version running + checkpointed.

Runs on a copy of flink_sql/ with its own topic, deployment name and lake, and cancels its jobs.

    python bench/bench_deploy.py

Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import deploy, upgrade, versions  # noqa: E402
from stack import kafka  # noqa: E402
from stack.config import load_config  # noqa: E402

NEW_TABLE = """-- Bench: a new gold table, added while the job runs.
create table gold_bench_copy (
    window_start timestamp(3), window_end timestamp(3), event_type string, event_count bigint,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem', 'path' = '${lake_root}/gold/bench_copy', 'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file',
    'sink.shuffle-by-partition.enable' = 'true'
);
"""
NEW_INSERT = """
insert into gold_bench_copy (window_start, window_end, event_type, event_count, dt)
select window_start, window_end, event_type, event_count,
    cast(cast(window_start as date) as string) as dt
from events_per_minute;
"""


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    sql_dir = work / "flink_sql"
    shutil.copytree(REPO / "flink_sql", sql_dir)
    topic = f"bench-deploy-{uuid.uuid4().hex[:6]}"
    config = load_config(
        kafka_topic=topic,
        deployment=topic,
        lake_root=str(work / "lake"),
        sql_dir=sql_dir,
        kafka_bounded_mode="unbounded",
    )
    kafka.ensure_topic(config, topic)
    jobs = ["bronze", "silver_gold"]
    try:
        started = time.monotonic()
        upgrade.deploy_jobs(config, jobs, log=lambda _line: None)
        print(f"first deploy, both jobs:               {time.monotonic() - started:6.1f} s")

        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "jobs.py", "deploy"],
            cwd=REPO,
            env={**os.environ, **config.as_environ()},
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"unchanged deploy (python jobs.py deploy): {elapsed:6.1f} s  (target <= 3 s), "
            f"{usage.ru_utime + usage.ru_stime:.1f} CPU-s, load {os.getloadavg()[0]:.0f}"
        )
        if done.returncode != 0:
            print(done.stdout + done.stderr)

        (sql_dir / "tables" / "gold_bench_copy.sql").write_text(NEW_TABLE)
        job_file = sql_dir / "jobs" / "silver_gold.sql"
        job_file.write_text(job_file.read_text().replace("begin\n", "begin\n" + NEW_INSERT, 1))
        bronze_file = sql_dir / "jobs" / "bronze.sql"
        bronze_file.write_text(
            bronze_file.read_text().replace(
                "set ", "set 'execution.checkpointing.timeout' = '9 min';\nset ", 1
            )
        )
        changes = upgrade.inspect(config, jobs)
        started = time.monotonic()
        upgrade.compile_changes(config, changes)
        print(
            f"upgrade: compile + match, both jobs:   {time.monotonic() - started:6.1f} s  (nothing stopped yet)"
        )
        started = time.monotonic()
        upgrade.deploy_jobs(config, jobs, log=lambda _line: None)
        total = time.monotonic() - started
        for name in jobs:
            latest = versions.versions(config, name)[-1]
            print(
                f"upgrade {name:<12} stop -> running + checkpoint: "
                f"{latest.meta.get('seconds', float('nan')):6.1f} s  ({latest.meta['outcome']})"
            )
        print(
            f"upgrade, both jobs, whole command:     {total:6.1f} s  (target stop -> running <= 30 s)"
        )
    finally:
        for name in jobs:
            active = deploy.active_job(config, deploy.pipeline_name(config, name))
            if active is not None:
                deploy.cancel(config, active.job_id)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
