"""Deploy flink_sql/ jobs to a Flink session cluster through PyFlink, and manage them over REST."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from pipeline import lake_writer
from sqlcheck.project import Job, load_project
from stack import flink
from stack.config import MAX_PARALLELISM, Config, is_object_store
from stack.object_store import s3_settings
from stack.processes import StackError, wait_until

ACTIVE_STATES = {
    "CREATED",
    "INITIALIZING",
    "RUNNING",
    "RESTARTING",
    "RECONCILING",
    "FAILING",
    "CANCELLING",
}


@dataclass(frozen=True)
class JobInfo:
    job_id: str
    name: str
    state: str
    start_time_ms: int

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


def rest(config: Config, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{config.rest_url}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise StackError(
            f"Flink REST {method} {path}: {error.code} {error.read()[:500]!r}"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        raise StackError(
            f"Flink REST at {config.rest_url} is not reachable ({error}); is `up` done?"
        ) from None
    return json.loads(raw) if raw else {}


def list_jobs(config: Config) -> list[JobInfo]:
    jobs = rest(config, "GET", "/jobs/overview")["jobs"]
    return sorted(
        (JobInfo(j["jid"], j["name"], j["state"], j["start-time"]) for j in jobs),
        key=lambda job: job.start_time_ms,
    )


def active_job(config: Config, pipeline_name: str) -> JobInfo | None:
    return next((j for j in list_jobs(config) if j.name == pipeline_name and j.is_active), None)


def load_job(config: Config, job_name: str) -> Job:
    """A job of the configured SQL project, rendered with the config; SqlError names each
    problem's file:line:col."""
    return load_project(config.sql_dir, config.sql_params(job_name)).job(job_name)


class OptionalFileSystems(logging.Filter):
    """Apache Beam (imported by PyFlink) warns at import that optional filesystems it cannot
    load (GCS, S3, ...) are skipped; the client never uses them, so that warning is noise. Every
    other record, and any error, passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno == logging.WARNING
            and str(record.msg).startswith("Failed to import ")
            and "loading of this filesystem will be skipped" in str(record.msg)
        )


_OPTIONAL_FILESYSTEMS = OptionalFileSystems()


def quiet_optional_filesystems() -> None:
    """Install the filter (once) before PyFlink imports Apache Beam."""
    logging.getLogger("apache_beam.io.filesystems").addFilter(_OPTIONAL_FILESYSTEMS)


def _table_environment(config: Config, job: Job, savepoint: str | None = None):
    """A streaming TableEnvironment whose jobs go to the configured cluster, the job's DDL run."""
    environment = client_environment(config, job_settings(config, job))
    if savepoint:
        environment.get_config().set("execution.state-recovery.path", savepoint)
    # A SQLite catalog is a file the first job creates (its folder must exist).
    config.lake_iceberg_catalog.prepare()
    for sql_object in job.ddl:
        try:
            environment.execute_sql(sql_object.statement.sql)
        except Exception as error:  # py4j wraps Flink's exceptions; name the file:line
            raise StackError(f"{sql_object.statement.location}: {_flink_message(error)}") from None
    return environment


def client_environment(config: Config, settings: dict[str, str], batch: bool = False):
    """A streaming (or `batch`) TableEnvironment whose jobs go to the configured cluster. The
    first call starts PyFlink's gateway JVM; later calls reuse it (one client per command)."""
    if not flink.lib_dir(config).exists():  # a remote cluster: the client still needs the jars
        flink.write_conf(config)
    os.environ.update(flink.flink_env(config))  # before PyFlink starts its gateway JVM
    quiet_optional_filesystems()
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    rest = urlparse(config.rest_url)
    client = Configuration()
    client.set_string("execution.target", "remote")
    client.set_string("rest.address", rest.hostname or "127.0.0.1")
    client.set_string("rest.port", str(rest.port or 8081))
    mode = EnvironmentSettings.new_instance()
    mode = mode.in_batch_mode() if batch else mode.in_streaming_mode()
    environment = TableEnvironment.create(mode.with_configuration(client).build())
    # The client creates the lake's tables: give its JVM this environment's S3 endpoint and keys
    # and the catalog server's password file, whatever environment it was started in (it lives
    # as long as this process).
    properties = config.lake_iceberg_catalog.java_system_properties(os.environ)
    if is_object_store(config.lake_root) or is_object_store(config.state_storage):
        properties |= s3_settings().java_system_properties()
    if properties:
        from pyflink.java_gateway import get_gateway

        system = get_gateway().jvm.System
        for key, value in properties.items():
            system.setProperty(key, value)
    for key, value in settings.items():
        environment.get_config().set(key, value)
    return environment


def compile_plan(config: Config, job: Job) -> dict:
    """Flink's compiled plan (JSON) of the job's statement set; nothing is deployed."""
    environment = _table_environment(config, job)
    statement_set = environment.create_statement_set()
    try:
        for insert in job.inserts:
            statement_set.add_insert_sql(insert.sql)
        return json.loads(statement_set.compile_plan().as_json_string())
    except Exception as error:
        raise StackError(f"{job.statement_set.location}: {_flink_message(error)}") from None


class CheckpointGone(StackError):
    """A checkpoint's `_metadata` is no longer where REST said: a newer checkpoint subsumed it."""


def checkpoint_metadata(location: str) -> bytes:
    """The `_metadata` file of a checkpoint or savepoint, on local disk or on S3."""
    path = location.rstrip("/") + "/_metadata"
    try:
        if is_object_store(path):
            with s3_settings().filesystem().open(path, "rb") as metadata:
                return metadata.read()
        return Path(path.removeprefix("file://").removeprefix("file:")).read_bytes()
    except FileNotFoundError:
        raise CheckpointGone(f"{path} is gone") from None


def checkpoint_operators(config: Config, location: str) -> dict[str, int]:
    """uid -> state bytes of every operator in a checkpoint's or savepoint's `_metadata`, read
    by Flink's own loader in the client JVM (REST reports sizes per task, not per operator)."""
    raw = checkpoint_metadata(location)
    client_environment(config, {})  # the gateway JVM, with the cluster's jars
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    # The loader resolves the state files' relative paths against the directory it is given,
    # through Flink's file systems (the client JVM has no s3 plugin). Sizes are all we read, so
    # it gets a local copy's directory: nothing resolved there is opened.
    with tempfile.TemporaryDirectory(prefix="checkpoint-") as copy:
        (Path(copy) / "_metadata").write_bytes(raw)
        stream = jvm.java.io.DataInputStream(jvm.java.io.ByteArrayInputStream(raw))
        try:
            metadata = jvm.org.apache.flink.runtime.checkpoint.Checkpoints.loadCheckpointMetadata(
                stream, jvm.java.lang.Thread.currentThread().getContextClassLoader(), copy
            )
        finally:
            stream.close()
    operators = {}
    for state in metadata.getOperatorStates():
        uid = state.getOperatorUid()
        if uid.isPresent():
            operators[uid.get()] = state.getStateSize()
    return operators


def latest_checkpoint(config: Config, job_id: str) -> str | None:
    """Where the job's newest completed checkpoint (or savepoint) is, if it has one."""
    latest = rest(config, "GET", f"/jobs/{job_id}/checkpoints").get("latest") or {}
    completed = latest.get("completed") or latest.get("savepoint") or {}
    return completed.get("external_path")


def latest_checkpoint_operators(
    config: Config, job_id: str, timeout_s: float = 30.0
) -> tuple[str | None, dict[str, int]]:
    """The job's newest completed checkpoint and its operators' state sizes (see
    `read_latest`); (None, {}) if it has none."""
    location, operators = read_latest(
        lambda: latest_checkpoint(config, job_id),
        lambda location: checkpoint_operators(config, location),
        timeout_s,
    )
    return location, operators or {}


T = TypeVar("T")


def read_latest(
    ask: Callable[[], str | None], read: Callable[[str], T], timeout_s: float
) -> tuple[str | None, T | None]:
    """`read` the checkpoint `ask` names. A running job's newer checkpoints subsume (delete) the
    older ones, and REST's statistics lag behind: when the named one is gone, ask again until
    REST names another one (bounded by `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    gone: list[str] = []
    while True:
        location = ask()
        if location is None:
            return None, None
        if location not in gone:
            try:
                return location, read(location)
            except CheckpointGone:
                gone.append(location)
        if time.monotonic() >= deadline:
            raise StackError(
                f"the job's checkpoints were deleted before they could be read ({', '.join(gone)}) "
                f"for {timeout_s:.0f} s; is its checkpoint interval shorter than reading one takes?"
            )
        time.sleep(0.5)


def execute_plan(
    config: Config,
    plan_file: Path,
    settings: dict[str, str],
    functions: list[str],
    savepoint: str | None = None,
    ignore_unclaimed_state: bool = False,
) -> str:
    """Start a job from a stored compiled plan (`EXECUTE PLAN`; PyFlink 2.3's
    `load_plan(...).execute()` is broken). A plan holds its tables but not its functions, so those
    are created first. Returns the Flink job id."""
    environment = client_environment(config, settings)
    if savepoint:
        environment.get_config().set("execution.state-recovery.path", savepoint)
        if ignore_unclaimed_state:
            environment.get_config().set("execution.state-recovery.ignore-unclaimed-state", "true")
    try:
        for statement in functions:
            environment.execute_sql(statement)
        result = environment.execute_sql(f"EXECUTE PLAN '{plan_file}'")
    except Exception as error:
        raise StackError(f"{plan_file}: {_flink_message(error)}") from None
    return str(result.get_job_client().get_job_id())


def job_settings(config: Config, job: Job) -> dict[str, str]:
    """What a job runs with: the config's defaults, then the job file's own SET lines."""
    return {**job_defaults(config, job.name), **job.settings}


def job_defaults(config: Config, job_name: str) -> dict[str, str]:
    """Per-job settings from the config; a job file's own SET lines take precedence."""
    return {
        # The name `submit` recognises a running job by, so it is never started twice.
        "pipeline.name": f"{config.deployment}: {job_name}",
        # Files are committed on checkpoints: this interval bounds how fresh the lake is.
        "execution.checkpointing.interval": config.checkpoint_interval,
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": config.checkpoint_uri,
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "3",
        "parallelism.default": str(config.parallelism),
        # Keyed state is split into this many key groups: the most parallelism a job can be
        # rescaled to. Fixed, since Flink otherwise derives it from the first deployment's
        # parallelism (128 up to 85) and a savepoint restores only at the same value.
        "pipeline.max-parallelism": str(MAX_PARALLELISM),
    }


def _flink_message(error: Exception) -> str:
    """Flink's message, short: its first lines and the root cause (the last `Caused by:`, which
    says e.g. that the catalog's file cannot be opened when the first lines list options)."""
    lines = [
        line for line in str(error).splitlines() if line.strip() and not line.startswith("\tat ")
    ]
    causes = [line for line in lines[3:] if line.startswith("Caused by:")]
    return " | ".join(lines[:3] + causes[-1:])[:1500]


def pipeline_name(config: Config, job_name: str) -> str:
    """The job's name on the cluster (its `pipeline.name`)."""
    return job_settings(config, load_job(config, job_name))["pipeline.name"]


def describe(config: Config, job: Job) -> str:
    """What a job deploys: its name in the web UI, settings, DDL files and sinks."""
    settings = job_settings(config, job)
    lines = [f"== job {job.name}: {settings['pipeline.name']!r} ({job.statement_set.location})"]
    lines += [f"   set {key} = {value}" for key, value in job.settings.items()]
    lines += [f"   {o.kind:<8} {o.name:<40} {o.statement.location}" for o in job.ddl]
    lines += [f"   sink  {sink}" for sink in job.sinks]
    return "\n".join(lines)


def explain(config: Config, job: Job) -> str:
    """Flink's EXPLAIN of the job's statement set, planned by the client; nothing is deployed."""
    environment = _table_environment(config, job)
    statement_set = environment.create_statement_set()
    for insert in job.inserts:
        statement_set.add_insert_sql(insert.sql)
    try:
        return statement_set.explain()
    except Exception as error:
        raise StackError(f"{job.statement_set.location}: {_flink_message(error)}") from None


def evolve_lake_schemas(config: Config) -> list[str]:
    """The lake tables' Iceberg schemas brought to the DDL before a job is compiled or started
    (pipeline.lake_writer.evolve_schemas: columns added, types widened; the rest refused)."""
    try:
        return lake_writer.evolve_schemas(config.lake_root, config.sql_dir)
    except lake_writer.SchemaEvolutionError as error:
        raise StackError(f"{error}. Nothing was deployed.") from None


def submit(config: Config, job_name: str, savepoint: str | None = None) -> tuple[str, bool]:
    """Deploy one job unless a job of the same name is active. Returns (job id, started now)."""
    job = load_job(config, job_name)
    running = active_job(config, job_settings(config, job)["pipeline.name"])
    if running is not None:
        return running.job_id, False
    evolve_lake_schemas(config)
    environment = _table_environment(config, job, savepoint)
    try:
        result = environment.execute_sql(job.statement_set.sql)
    except Exception as error:
        raise StackError(f"{job.statement_set.location}: {_flink_message(error)}") from None
    return str(result.get_job_client().get_job_id()), True


def cancel(config: Config, job_id: str) -> None:
    rest(config, "PATCH", f"/jobs/{job_id}?mode=cancel")
    wait_for_state(config, job_id, {"CANCELED", "FAILED", "FINISHED"})


def stop_with_savepoint(config: Config, job_id: str) -> str:
    """Stop a job gracefully, taking a savepoint; returns the savepoint's location."""
    trigger = rest(
        config,
        "POST",
        f"/jobs/{job_id}/stop",
        {"targetDirectory": config.savepoint_uri, "drain": False},
    )["request-id"]
    location: list[str] = []

    def completed() -> bool:
        status = rest(config, "GET", f"/jobs/{job_id}/savepoints/{trigger}")
        if status["status"]["id"] != "COMPLETED":
            return False
        operation = status.get("operation", {})
        if "failure-cause" in operation:
            raise StackError(
                f"savepoint failed: {operation['failure-cause'].get('stack-trace', '')[:800]}"
            )
        location.append(operation["location"])
        return True

    if not wait_until(completed, config.startup_timeout_s, interval_s=0.5):
        raise StackError(
            f"savepoint of job {job_id} did not complete in {config.startup_timeout_s:.0f} s"
        )
    wait_for_state(config, job_id, {"FINISHED", "CANCELED", "FAILED"})
    return location[0]


def job_state(config: Config, job_id: str) -> str:
    return rest(config, "GET", f"/jobs/{job_id}")["state"]


def wait_for_state(
    config: Config, job_id: str, states: set[str], timeout_s: float | None = None
) -> str:
    timeout_s = config.startup_timeout_s if timeout_s is None else timeout_s
    if not wait_until(lambda: job_state(config, job_id) in states, timeout_s, interval_s=0.5):
        raise StackError(f"job {job_id} did not reach {sorted(states)} within {timeout_s:.0f} s")
    return job_state(config, job_id)


def exceptions(config: Config, job_id: str) -> str:
    """The job's latest exception, its message lines only ("" when there is none)."""
    history = rest(config, "GET", f"/jobs/{job_id}/exceptions?maxExceptions=1")
    entries = history.get("exceptionHistory", {}).get("entries", [])
    trace = entries[0].get("stacktrace", "") if entries else history.get("root-exception") or ""
    return _flink_message(Exception(trace)) if trace else ""


def await_checkpointed(config: Config, job_id: str, timeout_s: float | None = None) -> float:
    """Wait until the job runs every task and has completed a checkpoint (one is triggered as
    soon as it runs). A restore failure shows as RESTARTING, not FAILED, so RESTARTING, any
    terminal state or any exception fails at once, with Flink's message. Returns the seconds."""
    # twice the start-up timeout: a restore plus a first checkpoint of all state is slower
    timeout_s = 2 * config.startup_timeout_s if timeout_s is None else timeout_s
    started, triggered = time.monotonic(), False
    while time.monotonic() - started < timeout_s:
        details = rest(config, "GET", f"/jobs/{job_id}")
        state = details["state"]
        problem = exceptions(config, job_id)
        if state in {"RESTARTING", "FAILING", "FAILED", "CANCELED", "CANCELLING"} or problem:
            raise StackError(f"job {job_id} is {state}: {problem or 'no exception recorded'}")
        if state == "FINISHED":  # a bounded job read everything and committed its output
            return time.monotonic() - started
        running = state == "RUNNING" and all(
            vertex["status"] in {"RUNNING", "FINISHED"} for vertex in details["vertices"]
        )
        if running:
            counts = rest(config, "GET", f"/jobs/{job_id}/checkpoints")["counts"]
            if counts["completed"] >= 1:
                return time.monotonic() - started
            if not triggered:
                try:
                    rest(config, "POST", f"/jobs/{job_id}/checkpoints", {})
                    triggered = True
                except StackError:
                    pass  # not every task is ready yet; the next poll tries again
        time.sleep(0.5)
    raise StackError(f"job {job_id} did not run and complete a checkpoint within {timeout_s:.0f} s")
