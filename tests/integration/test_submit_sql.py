"""What `lint` accepts is what `plan` explains and `submit` deploys: the commands read flink_sql/
through one project model. A job whose INSERT holds CASE expressions (once cut apart at the CASE's
`end` by a second splitter on the deploy side) lints, plans, deploys on the real cluster and
writes what its CASE says."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from confluent_kafka import Producer

from pipeline import deploy
from stack.config import Config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

SINK = """-- Test sink: each record with the label the job's CASE gave it.
create table case_labels (
    kafka_offset bigint,
    label string,
    parity string
) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/test/case_labels',
    'format' = 'parquet'
);
"""

JOB = """-- Test job: CASE ... END inside the statement set, in two forms.
set 'pipeline.name' = '${deployment}: case labels';

execute statement set
begin

-- Each record labelled; `end` closes the CASE, not the statement set.
insert into case_labels (kafka_offset, label, parity)
select
    kafka_offset,
    case
        when raw_payload = '{"n": 0}' then 'zero'
        when raw_payload like '{%' then 'json'
        else 'other'
    end as label,
    case mod(kafka_offset, 2) when 0 then 'even' else 'odd' end as parity
from kafka_events;

end;
"""

PAYLOADS = {'{"n": 0}': "zero", '{"n": 1}': "json", "not json": "other"}


def run(config: Config, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "jobs.py", *args],
        cwd=ROOT,
        env={**os.environ, **config.as_environ()},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_job_with_case_expressions_lints_plans_and_deploys(pipeline_config: Config, tmp_path):
    sql_dir = tmp_path / "flink_sql"
    shutil.copytree(ROOT / "flink_sql", sql_dir)
    (sql_dir / "tables" / "case_labels.sql").write_text(SINK)
    (sql_dir / "jobs" / "case_labels.sql").write_text(JOB)
    config = dataclasses.replace(pipeline_config, sql_dir=sql_dir)
    producer = Producer({"bootstrap.servers": config.bootstrap_servers})
    for number, payload in enumerate(PAYLOADS):
        producer.produce(config.kafka_topic, key=f"user-{number}", value=payload)
    assert producer.flush(30) == 0

    linted = run(config, "lint")
    assert linted.returncode == 0, linted.stderr

    planned = run(config, "plan", "--explain", "case_labels")
    assert planned.returncode == 0, planned.stderr
    assert "sink  case_labels" in planned.stdout
    assert "CASE(" in planned.stdout  # Flink planned the CASE expressions

    submitted = run(config, "submit", "case_labels")
    assert submitted.returncode == 0, submitted.stderr
    assert "case_labels: submitted as " in submitted.stdout
    assert "GCSFileSystem" not in submitted.stderr  # the import noise stays out
    job_id = submitted.stdout.split("case_labels: submitted as ")[1].split()[0]
    try:
        assert deploy.wait_for_state(config, job_id, {"FINISHED", "FAILED"}, 300) == "FINISHED"
    finally:
        if deploy.job_state(config, job_id) in deploy.ACTIVE_STATES:
            deploy.cancel(config, job_id)

    rows = duckdb.sql(
        f"select label, parity, kafka_offset from read_parquet("
        f"'{config.lake_root}/test/case_labels/part-*')"
    ).fetchall()
    assert sorted(label for label, _, _ in rows) == sorted(PAYLOADS.values())
    assert all(parity == ("even" if offset % 2 == 0 else "odd") for _, parity, offset in rows)
