"""The lake on S3-compatible object storage: a moto server of this module's own (a free loopback
port, stopped at the end) is the S3 endpoint; the lake is `s3://<bucket>/lake` with its catalog
in a local file or on a PostgreSQL catalog server of this module's own (catalog_server.py), and
Flink's checkpoints and savepoints are on the same store (state_storage). The endpoint and keys
reach every part only through the AWS environment variables: the Flink processes inherit them
from this process, the readers take them from stack/object_store.py.

- Python writes and reads a table (lake_writer's upload, lake_reader through s3fs), and dbt reads
  it, with either catalog; maintenance compacts, expires and deletes orphans on S3.
- The TaskManager killed (-9) mid-stream, as test_faults.py does on a local lake, in the shape of
  several hosts (lake and checkpoints on S3, catalog on the server): both jobs restart from their
  latest checkpoint (on S3) and every layer equals the ground truth exactly; the data files are
  objects in the bucket, the tables are registered on the server, and nothing of the lake is on
  local disk.
- `jobs.py deploy` of a changed setting while records arrive: each job stops with a savepoint on
  S3 (after deploy read its latest checkpoint's operators from S3) and resumes from it.

`pytest tests/integration/test_s3_lake.py` runs it; -s shows the recovery times."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import duckdb
import pytest
from catalog_server import CatalogServer, catalog_server
from fault_support import (
    RECORDS,
    assert_lake_matches,
    cancel_active,
    deploy_at,
    generator_config,
    kill_taskmanager_mid_stream,
    lake_counts,
    producing_mid_stream,
    report,
    submit_all,
    wait_for_lake,
)
from support import own_stack

from generator.simulate import simulate
from pipeline import (
    catalog_move,
    deploy,
    lake,
    lake_maintenance,
    lake_reader,
    lake_schema,
    lake_writer,
    marts,
    upgrade,
)
from stack import flink, kafka
from stack.config import Config, load_config, private_stack_environ
from stack.lake_catalog import PASSWORD_FILE_VARIABLE
from stack.processes import StackError, free_ports, wait_until

pytestmark = pytest.mark.integration

BUCKET = "lake"
# moto's defaults; any non-empty keys work.
AWS_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    environ: dict[str, str]  # the AWS variables every part reads

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def keys(self, prefix: str) -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, with the lake's bucket; stopped at the end."""
    (port,) = free_ports(1)
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        server = S3Server(
            f"http://127.0.0.1:{port}",
            {**AWS_KEYS, "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}"},
        )
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.environ.items():
                patch.setenv(name, value)
            assert wait_until(lambda: process.poll() is not None or _answers(server), 30, 0.2)
            assert process.poll() is None, log.read_text()
            server.client().create_bucket(Bucket=BUCKET)
            yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(server: S3Server) -> bool:
    try:
        server.client().list_buckets()
    except Exception:  # not listening yet
        return False
    return True


@pytest.fixture(scope="module")
def postgres() -> Iterator[CatalogServer]:
    """A PostgreSQL server of this module's own: the catalog server of several hosts. Its
    password reaches every part only through PGPASSFILE: the Flink processes inherit it from
    this process, the readers' and the client's drivers read it."""
    with catalog_server() as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_FILE_VARIABLE, str(server.password_file))
        yield server


def new_catalog(kind: str, postgres: CatalogServer, folder: Path) -> str:
    """lake_catalog for a new lake: a SQLite file in `folder`, or a new database on the server."""
    if kind == "server":
        return postgres.create_database(f"lake_{uuid.uuid4().hex[:10]}")
    return str(folder / "catalog" / "catalog.db")


@pytest.fixture(params=["file", "server"])
def s3_lake(s3_server: S3Server, postgres: CatalogServer, request, tmp_path, monkeypatch) -> str:
    """A fresh lake under the bucket, its catalog a file in tmp_path or a database on the
    catalog server; this process's settings name both (the readers find the catalog of an S3
    lake through them)."""
    root = f"s3://{BUCKET}/{uuid.uuid4().hex[:10]}/lake"
    monkeypatch.setenv("CLICKSTREAM_LAKE_ROOT", root)
    monkeypatch.setenv("CLICKSTREAM_LAKE_CATALOG", new_catalog(request.param, postgres, tmp_path))
    return root


def append_bronze(lake_root: str, rows: int) -> list[str]:
    """`rows` bronze records (offsets 0..rows-1), the first seven on 2026-11-30, the rest on
    the day after, appended by lake_writer as one snapshot."""
    with duckdb.connect() as connection:
        connection.execute(
            "create table rows as select 'p' || i as raw_payload, 'k' || i as kafka_key, "
            "'t' as kafka_topic, i % 3 as kafka_partition, i as kafka_offset, "
            "timestamp '2026-11-30 10:00:00' as kafka_timestamp, "
            "timestamp '2026-11-30 10:00:01' as ingested_at, "
            f"case when i < 7 then '2026-11-30' else '2026-12-01' end as dt from range({rows}) t(i)"
        )
        return lake_writer.append(lake_root, "bronze_events", connection, "select * from rows")


def test_s3_python_writes_and_reads_a_table(
    s3_server: S3Server, postgres: CatalogServer, s3_lake: str, tmp_path
):
    files = append_bronze(s3_lake, 10)
    assert len(files) == 2 and all(path.startswith(f"{s3_lake}/") for path in files)
    prefix = s3_lake.removeprefix(f"s3://{BUCKET}/")
    parquet = [key for key in s3_server.keys(prefix) if key.endswith(".parquet")]
    assert sorted(f"s3://{BUCKET}/{key}" for key in parquet) == sorted(files)

    assert lake.row_counts(s3_lake)["bronze_events"] == 10
    assert lake.connect(s3_lake).execute(
        "select dt, count(*), sum(kafka_offset) from bronze_events group by dt order by dt"
    ).fetchall() == [("2026-11-30", 7, 21), ("2026-12-01", 3, 24)]
    scan = lake_reader.scan(s3_lake, "bronze_events")
    assert sorted(scan.files) == sorted(files)
    # The table is registered where lake_catalog says: on the server, or in the file.
    catalog = load_config().lake_iceberg_catalog
    if catalog.is_server:
        assert postgres.tables(catalog.server) == ["bronze.events"]
        assert list(tmp_path.rglob("*.db")) == []
    else:
        assert catalog.file.is_file()


def test_s3_maintenance_compacts_expires_and_deletes_orphans(s3_server: S3Server, s3_lake: str):
    """Three appends (two files each, one per day), and an object nothing references: maintenance
    leaves one file per day and the same rows, expires the older snapshots, and deletes the
    replaced files and the stray object from the bucket."""
    for _ in range(3):
        append_bronze(s3_lake, 10)
    before = (
        lake.connect(s3_lake)
        .execute(
            "select dt, count(*), sum(kafka_offset) from bronze_events group by dt order by dt"
        )
        .fetchall()
    )
    location = lake_reader.load(s3_lake, "bronze_events").location()
    stray = f"{location}/data/dt=2026-11-30/stray.parquet"
    s3_server.client().put_object(
        Bucket=BUCKET, Key=stray.removeprefix(f"s3://{BUCKET}/"), Body=b"not referenced"
    )
    later = datetime.now(UTC) + timedelta(days=2)  # every file and snapshot old enough
    (report,) = lake_maintenance.maintain(
        s3_lake, tables=["bronze_events"], now=later, log=lambda _message: None
    )
    assert (report.files_before, report.files_after) == (6, 2)
    assert (report.partitions_compacted, report.snapshots_expired) == (2, 3)
    # The six replaced files, the stray object, and the manifest list and manifest of each of
    # the three expired snapshots.
    assert report.orphans_removed == 13
    assert report.rows == 30
    assert (
        lake.connect(s3_lake)
        .execute(
            "select dt, count(*), sum(kafka_offset) from bronze_events group by dt order by dt"
        )
        .fetchall()
        == before
    )
    prefix = location.removeprefix(f"s3://{BUCKET}/")
    data = sorted(key for key in s3_server.keys(prefix) if key.endswith(".parquet"))
    assert [f"s3://{BUCKET}/{key}" for key in data] == sorted(
        lake.committed_files(s3_lake, "bronze_events")
    )
    assert len(data) == 2 and all("/compacted-" in key for key in data)
    assert stray.removeprefix(f"s3://{BUCKET}/") not in s3_server.keys(prefix)


def test_s3_dbt_reads_the_lake_through_its_plugin(s3_lake: str, tmp_path):
    append_bronze(s3_lake, 5)
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "show",
            "--inline",
            "select count(*) as bronze_rows from {{ source('lake', 'bronze_events') }}",
            "--output",
            "json",
        ],
        cwd=project,
        # With this process's environment: the AWS variables and CLICKSTREAM_LAKE_ROOT/_CATALOG
        # of s3_lake.
        env=marts.dbt_env(
            s3_lake,
            DBT_DUCKDB_PATH=str(tmp_path / "clickstream.duckdb"),
            DBT_TARGET_PATH=str(tmp_path / "dbt-target"),
            DBT_LOG_PATH=str(tmp_path / "dbt-logs"),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert '"bronze_rows": 5' in output, output[-4000:]


# --- the stream on S3 -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_stack(s3_server: S3Server, postgres: CatalogServer, tmp_path_factory) -> Iterator[Config]:
    """Kafka and a Flink cluster of this module's own, its checkpoints and savepoints on S3.
    Its processes inherit the AWS variables s3_server and the PGPASSFILE postgres set in this
    process's environment."""
    state_dir = tmp_path_factory.mktemp("s3-stack")
    config = load_config(
        environ=private_stack_environ(state_dir),
        state_storage=f"s3://{BUCKET}/flink",
        lake_root=f"s3://{BUCKET}/stack/lake",
        lake_catalog=str(state_dir / "lake-catalog" / "catalog.db"),
    )
    with own_stack(config, "s3 stack"):
        yield config


@pytest.fixture
def s3_pipeline(s3_stack: Config, tmp_path, monkeypatch) -> Config:
    """The stack pointed at a fresh topic and a fresh lake on S3, read unbounded."""
    topic = f"s3-{uuid.uuid4().hex[:10]}"
    assert kafka.ensure_topic(s3_stack, topic)
    config = replace(
        s3_stack,
        kafka_topic=topic,
        lake_root=f"s3://{BUCKET}/{topic}/lake",
        lake_catalog=str(tmp_path / "lake-catalog" / "catalog.db"),
        deployment=f"test-{topic}",
        # Fewer, larger files than test_faults.py's 2 s: each file read costs a request or more.
        checkpoint_interval="5 s",
        watermark_emit_strategy="on-event",
    )
    monkeypatch.setenv("CLICKSTREAM_LAKE_ROOT", config.lake_root)
    monkeypatch.setenv("CLICKSTREAM_LAKE_CATALOG", config.lake_catalog)
    return config


def test_s3_taskmanager_killed_mid_stream(
    s3_server: S3Server, postgres: CatalogServer, s3_pipeline: Config, tmp_path, monkeypatch
):
    """kill -9 the TaskManager while both jobs write the lake on S3, start a new one: both jobs
    restart from their latest checkpoint on S3, and each record lands once. As on several hosts,
    nothing is shared through a local disk: the catalog is on the PostgreSQL server."""
    config = replace(s3_pipeline, lake_catalog=new_catalog("server", postgres, tmp_path))
    monkeypatch.setenv("CLICKSTREAM_LAKE_CATALOG", config.lake_catalog)
    records = list(simulate(generator_config(seed=7101), RECORDS))
    ids = submit_all(config)
    try:
        # A third of test_faults.py's rate: 50 s of records, so the fault still hits mid-stream
        # after the first checkpoint on S3 (silver_gold's first took 7.6 s on the shared box).
        recovery = kill_taskmanager_mid_stream(
            config, ids, flink.taskmanagers(config)[0], records, tmp_path / "truth.jsonl", 100, True
        )
    finally:
        cancel_active(config, ids)
        flink.start(config)
        flink.wait_healthy(config)
    truth = recovery.truth
    started = time.monotonic()
    assert_lake_matches(config, truth)
    compared = time.monotonic() - started
    started = time.monotonic()
    lake.row_counts(config.lake_root)  # what a reader pays per file on S3 (docs/lake.md)
    counted = time.monotonic() - started
    files = sum(len(lake.committed_files(config.lake_root, table)) for table in lake.TABLES)
    report(
        f"TaskManager kill -9, lake and checkpoints on S3, catalog on PostgreSQL ({recovery.restarts})",
        **recovery.seconds,
        exact_comparison_took=compared,
    )
    print(f"[s3 reads] row counts of every table: {files} files in {counted:.1f} s")

    # The lake is in the bucket: every committed file an object there, none on local disk.
    prefix = config.lake_root.removeprefix(f"s3://{BUCKET}/")
    objects = {f"s3://{BUCKET}/{key}" for key in s3_server.keys(prefix)}
    committed = lake.committed_files(config.lake_root, "bronze_events")
    assert committed and set(committed) <= objects
    assert any(key.endswith(".metadata.json") for key in objects)
    local = [
        path
        for folder in (config.state_dir, tmp_path)
        for path in folder.rglob("*")
        if path.suffix in (".parquet", ".avro", ".db") or path.name.endswith(".metadata.json")
    ]
    assert local == []
    # Both jobs committed through the catalog server: every lake table is registered there.
    written = {table.identifier for table in lake_schema.lake_tables().values()}
    assert set(postgres.tables(config.lake_catalog)) == written
    # The jobs' checkpoints went to S3 too.
    assert any("/chk-" in key for key in s3_server.keys("flink/checkpoints/"))


def test_s3_upgrade_through_a_savepoint(s3_server: S3Server, s3_pipeline: Config, tmp_path):
    """Deploy both jobs, and while a run arrives deploy them again at parallelism 2: deploy reads
    each job's latest checkpoint on S3 (its operators' state), stops it with a savepoint on S3
    and resumes from that; each record lands once."""
    log: list[str] = []
    config, ids = deploy_at(s3_pipeline, 1, log)
    records = list(simulate(generator_config(seed=7102), RECORDS))
    try:
        producer = producing_mid_stream(config, records, tmp_path / "truth.jsonl", 100)
        started = time.monotonic()
        config, ids = deploy_at(config, 2, log)
        upgraded = time.monotonic() - started
        truth = producer.finish()
        assert wait_for_lake(config, truth, 240), lake_counts(config)
    finally:
        cancel_active(config, ids)
    assert sum("with savepoint" in line for line in log) == 2, "\n".join(log)
    report("deploy at parallelism 2, checkpoints and savepoints on S3", deploy_took=upgraded)
    assert_lake_matches(config, truth)
    assert s3_server.keys("flink/savepoints/")


def test_s3_catalog_moved_to_the_server_between_stop_and_resume(
    s3_server: S3Server, postgres: CatalogServer, s3_pipeline: Config, tmp_path, monkeypatch
):
    """The way onto several hosts for a running pipeline: while records arrive, both jobs stop
    with savepoints, the lake's tables move from the catalog file to the server
    (`jobs.py move-catalog`), and the jobs resume from their savepoints committing there. A
    deploy naming the server before the move is refused. Each record lands once."""
    log: list[str] = []
    config, ids = deploy_at(s3_pipeline, 1, log)
    records = list(simulate(generator_config(seed=7103), RECORDS))
    server = replace(config, lake_catalog=new_catalog("server", postgres, tmp_path))
    try:
        producer = producing_mid_stream(config, records, tmp_path / "truth.jsonl", 100)
        savepoints = {job: deploy.stop_with_savepoint(config, ids[job]) for job in ids}
        monkeypatch.setenv("CLICKSTREAM_LAKE_CATALOG", server.lake_catalog)
        with pytest.raises(StackError, match="does not hold"):
            upgrade.deploy_jobs(server, ["bronze"], from_savepoint=savepoints["bronze"])
        moved = catalog_move.move(
            config.lake_root, config.lake_iceberg_catalog, server.lake_iceberg_catalog
        )
        assert set(moved) == set(postgres.tables(server.lake_catalog))
        at_move = catalog_move.tables(config.lake_root, config.lake_iceberg_catalog)
        for job, savepoint in savepoints.items():
            assert upgrade.deploy_jobs(server, [job], from_savepoint=savepoint, log=log.append)
        ids = {
            job: deploy.active_job(server, deploy.pipeline_name(server, job)).job_id for job in ids
        }
        truth = producer.finish()
        assert wait_for_lake(server, truth, 240), lake_counts(server)
    finally:
        cancel_active(config, ids)
    assert_lake_matches(server, truth)
    # Nothing was committed to the old catalog after the move; the server's tables went on.
    assert catalog_move.tables(config.lake_root, config.lake_iceberg_catalog) == at_move
    assert catalog_move.behind(
        config.lake_root, server.lake_iceberg_catalog, config.lake_iceberg_catalog
    )
