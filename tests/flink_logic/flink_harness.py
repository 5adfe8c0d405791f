"""Run the real views of flink_sql/ on a local Flink (PyFlink's in-process MiniCluster) over a
bounded file instead of Kafka, so their logic is tested without a broker or a cluster.

The source is `kafka_events` as flink_sql/tables/kafka_events.sql declares it, with two changes
made to its rendered text (`bounded_source_ddl`): the Kafka metadata columns become physical
columns (the test writes the topic, partition, offset and timestamp into the file) and the WITH
clause reads a JSON-lines file. The computed columns and the watermark stay the DDL's own, and a
test holds the column list equal to the DDL's. Views and functions are executed exactly as the
job deploys them, with the job's SET lines; the functions come from the real jar.

Watermarks: `pipeline.auto-watermark-interval` = 0 makes Flink emit a watermark after every
record that advances it, as the source's `scan.watermark.emit.strategy = on-event` does in the
integration tests, so "late" is decided by record order alone. At the end of the file Flink
emits the final MAX watermark, which closes every window.

One job per run: every view under test gets a filesystem JSON sink in one statement set, and the
rows are read back typed by the view's schema.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from stack import flink
from stack.config import Config

SOURCE = "kafka_events"
JOB = "silver_gold"  # the job whose views are under test


# ------------------------------------------------------------------------------- loading the SQL


@dataclass(frozen=True)
class SqlText:
    kind: str  # "function", "table" or "view"
    name: str
    sql: str  # rendered, as deployed
    location: str  # file:line


@dataclass(frozen=True)
class JobSql:
    settings: dict[str, str]  # the job file's SET lines
    objects: list[SqlText]  # functions, tables and views the job deploys, in dependency order


def load_job_sql(config: Config) -> JobSql:
    """The job's rendered DDL and settings: the ONE place this harness reads flink_sql/."""
    from sqlcheck.project import load_project

    job = load_project(config.sql_dir, config.sql_params(JOB)).job(JOB)
    return JobSql(
        dict(job.settings),
        [SqlText(o.kind, o.name, o.statement.sql, o.statement.location) for o in job.ddl],
    )


# ---------------------------------------------------------------------------------- the source

METADATA = re.compile(r"\s+metadata(?:\s+from\s+'[^']*')?(?:\s+virtual)?(?=\s*,|\s*\))", re.I)
WITH_CLAUSE = re.compile(r"\)\s*with\s*\(", re.I)


def bounded_source_ddl(kafka_ddl: str, folder: Path) -> str:
    """The Kafka source DDL reading a JSON-lines folder: metadata columns made physical, the
    connector options replaced; columns, computed columns and watermark unchanged."""
    columns = METADATA.sub("", kafka_ddl)
    clauses = list(WITH_CLAUSE.finditer(columns))
    if not clauses:
        raise ValueError(f"no WITH clause in the {SOURCE} DDL")
    options = {
        "connector": "filesystem",
        "path": folder.as_uri(),
        "format": "json",
        "json.timestamp-format.standard": "ISO-8601",
    }
    rendered = ",\n    ".join(f"'{key}' = '{value}'" for key, value in options.items())
    return f"{columns[: clauses[-1].start()]}) with (\n    {rendered}\n)"


@dataclass(frozen=True)
class KafkaRecord:
    """One record of the event topic as the source reads it."""

    value: bytes | None
    timestamp: datetime  # the record's Kafka timestamp (aware, UTC)
    offset: int
    key: bytes | None = b"U-1"
    partition: int = 0
    topic: str = "clickstream.events"

    def as_json(self) -> str:
        def encoded(raw: bytes | None) -> str | None:
            return None if raw is None else base64.b64encode(raw).decode()

        millis = self.timestamp.astimezone(UTC).isoformat(timespec="milliseconds")
        return json.dumps(
            {
                "kafka_key_bytes": encoded(self.key),
                "raw_value": encoded(self.value),
                "kafka_topic": self.topic,
                "kafka_partition": self.partition,
                "kafka_offset": self.offset,
                "kafka_timestamp": millis.replace("+00:00", "Z"),
            }
        )


# ------------------------------------------------------------------------------ the environment


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # e.g. "DECIMAL(12, 2) NOT NULL"
    type_root: str  # Flink's LogicalTypeRoot, e.g. "TIMESTAMP_WITHOUT_TIME_ZONE"


@dataclass
class FlinkViews:
    """A streaming TableEnvironment holding the job's functions, the bounded source and views."""

    environment: object  # pyflink.table.TableEnvironment
    workdir: Path
    job: JobSql
    source_ddl: str
    kafka_columns: list[tuple] = field(default_factory=list)  # DESCRIBE of the real DDL
    source_columns: list[tuple] = field(default_factory=list)  # DESCRIBE of the test source
    runs: int = 0

    def columns(self, view: str) -> list[Column]:
        schema = self.environment.from_path(view)._j_table.getResolvedSchema()
        return [
            Column(
                column.getName(),
                column.getDataType().getLogicalType().asSerializableString(),
                column.getDataType().getLogicalType().getTypeRoot().name(),
            )
            for column in schema.getColumns()
        ]

    def run(self, records: Sequence[KafkaRecord], views: Iterable[str]) -> dict[str, list[dict]]:
        """Read `records` through the views in one job; every row of each view, typed."""
        self.runs += 1
        run_dir = self.workdir / f"run-{self.runs}"
        source = self.workdir / "source"
        source.mkdir(exist_ok=True)
        for old in source.iterdir():
            old.unlink()
        (source / "records.json").write_text("".join(r.as_json() + "\n" for r in records))

        statement_set = self.environment.create_statement_set()
        schemas = {}
        for view in views:
            schemas[view] = self.columns(view)
            sink = f"out_{self.runs}_{view}"
            columns = ", ".join(f"`{c.name}` {c.sql_type}" for c in schemas[view])
            self.environment.execute_sql(
                f"create temporary table `{sink}` ({columns}) with ("
                f"'connector' = 'filesystem', 'path' = '{(run_dir / view).as_uri()}', "
                "'format' = 'json', 'json.timestamp-format.standard' = 'ISO-8601')"
            )
            statement_set.add_insert_sql(f"insert into `{sink}` select * from `{view}`")
        statement_set.execute().wait()
        return {view: _read_rows(run_dir / view, columns) for view, columns in schemas.items()}


def start(config: Config, workdir: Path) -> FlinkViews:
    """The environment with the job's SQL registered; the PyFlink gateway is started the way
    `pipeline.deploy` starts it, so whichever starts it first, both work."""
    _start_gateway(config)
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    settings = Configuration()
    settings.set_string("parallelism.default", "1")
    # A watermark after every record, like the source's on-event emit strategy.
    settings.set_string("pipeline.auto-watermark-interval", "0")
    environment = TableEnvironment.create(
        EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(settings).build()
    )
    functions_jar = config.jars_dir / "flink" / "clickstream-functions.jar"
    if not functions_jar.exists():
        raise FileNotFoundError(f"{functions_jar}: run `make jars`")
    environment.get_config().set("pipeline.jars", functions_jar.as_uri())
    job = load_job_sql(config)
    for key, value in job.settings.items():
        environment.get_config().set(key, value)

    source_folder = workdir / "source"
    source_folder.mkdir(parents=True, exist_ok=True)
    kafka = next(o for o in job.objects if o.name == SOURCE)
    harness = FlinkViews(environment, workdir, job, bounded_source_ddl(kafka.sql, source_folder))
    for sql_object in job.objects:
        if sql_object.kind == "table" and sql_object.name != SOURCE:
            continue  # the sinks: the tests read the views
        if sql_object.name == SOURCE:
            environment.execute_sql(sql_object.sql)
            harness.kafka_columns = _describe(environment, SOURCE)
            environment.execute_sql(f"drop table {SOURCE}")
            environment.execute_sql(harness.source_ddl)
            harness.source_columns = _describe(environment, SOURCE)
            continue
        try:
            environment.execute_sql(sql_object.sql)
        except Exception as error:  # py4j wraps Flink's message; name the file:line
            first = str(error).strip().splitlines()[0][:600]
            raise RuntimeError(f"{sql_object.location}: {first}") from None
    return harness


# Small inputs: compiling hot code with C2 costs more CPU than it saves (3x the JVM's CPU time
# for a test session on 2 cores); the serial collector avoids GC threads.
GATEWAY_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _start_gateway(config: Config) -> None:
    """PyFlink's gateway JVM, started as pipeline.deploy starts it (the cluster's conf and lib/,
    so either can start it first) plus GATEWAY_JVM_OPTIONS, which only this JVM gets."""
    if not flink.lib_dir(config).exists():
        flink.write_conf(config)
    os.environ.update(flink.flink_env(config))
    from pyflink.java_gateway import get_gateway

    previous = os.environ.get("FLINK_ENV_JAVA_OPTS")
    shared = previous or str(flink.cluster_settings(config).get("env.java.opts.all", ""))
    os.environ["FLINK_ENV_JAVA_OPTS"] = f"{shared} {GATEWAY_JVM_OPTIONS}"
    try:
        get_gateway()
    finally:  # the cluster's JVMs, started later from this environment, keep their own options
        if previous is None:
            del os.environ["FLINK_ENV_JAVA_OPTS"]
        else:
            os.environ["FLINK_ENV_JAVA_OPTS"] = previous


def _describe(environment, table: str) -> list[tuple]:
    with environment.execute_sql(f"describe {table}").collect() as rows:
        return [tuple(row) for row in rows]


# ------------------------------------------------------------------------------ reading results


def _read_rows(folder: Path, columns: list[Column]) -> list[dict]:
    files = sorted(p for p in folder.glob("*") if p.is_file() and not p.name.startswith("."))
    rows = []
    for path in files:
        for line in path.read_text().splitlines():
            document = json.loads(line, parse_float=Decimal)
            rows.append({c.name: _typed(document.get(c.name), c.type_root) for c in columns})
    return rows


def _typed(value: object, type_root: str) -> object:
    if value is None:
        return None
    if type_root == "TIMESTAMP_WITHOUT_TIME_ZONE":
        return datetime.fromisoformat(value)
    if type_root == "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if type_root == "DATE":
        return date.fromisoformat(value)
    if type_root in ("DOUBLE", "FLOAT"):
        return float(value)
    if type_root == "DECIMAL":
        return Decimal(value)
    return value
