"""clickstream: run the local streaming stack and deploy the Flink SQL pipeline.

python jobs.py up | down | status            the local Kafka broker(s) + Flink session cluster
python jobs.py lint [PATH ...]               check flink_sql/: file:line:col RULE message
python jobs.py plan [JOB ...]                what deploy would change, and which state survives
python jobs.py deploy [JOB ...]              lint, then deploy or upgrade flink_sql/jobs/*.sql
python jobs.py history | rollback JOB        recorded versions; back to the previous one
python jobs.py list | cancel | stop [JOB]    manage deployed jobs
python jobs.py lineage TABLE.COLUMN          column lineage from the payload to a sink column
python jobs.py manifests [--out DIR]         Kubernetes manifests: Strimzi Kafka, Flink operator jobs
python jobs.py generate | replay             simulated shoppers or a REES46 CSV into Kafka
python jobs.py query SQL [--as-of T]         SQL over the lake's tables, now or as of a time
python jobs.py snapshots TABLE               a lake table's snapshots (what --as-of can pin)
python jobs.py maintain [TABLE ...]          compact small files, expire snapshots, drop orphans
python jobs.py demo                          everything, end to end
python jobs.py dashboard                     the live Streamlit dashboard over the lake
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer

import stack
from generator.cli import generate, replay
from pipeline import deploy, lake_maintenance
from sqlcheck.findings import format_findings
from sqlcheck.lineage import column_lineage
from sqlcheck.lint import lint_paths
from sqlcheck.project import SqlError, job_names, load_project
from stack.config import ConfigError, load_config

ERRORS = (ConfigError, SqlError, stack.StackError)

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
app.command()(generate)
app.command()(replay)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def up() -> None:
    """Start Kafka and the Flink session cluster on loopback (idempotent)."""
    try:
        config = load_config()
        started = stack.up(config)
    except ERRORS as error:
        _fail(str(error))
    typer.echo("already running: nothing started" if not started else "stack is up")
    typer.echo(f"Kafka bootstrap: {config.bootstrap_servers}  topic: {config.kafka_topic}")
    typer.echo(f"Flink web UI:    {config.rest_url}")


@app.command()
def down() -> None:
    """Stop what `up` started: gracefully, then forcefully."""
    try:
        stopped = stack.down(load_config())
    except ConfigError as error:
        _fail(str(error))
    typer.echo("nothing was running" if not stopped else "stack is down")


def _fmt(value, spec: str = "", unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


@app.command()
def status(
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON document instead of tables."
    ),
) -> None:
    """Services, then pipeline health per job (state, restarts, checkpoints, rates, watermark lag,
    backpressure, Kafka consumer lag). Exit 1 when anything is unhealthy."""
    import dataclasses
    import json

    from pipeline import health

    try:
        report = health.report(load_config())
    except ERRORS as error:
        _fail(str(error))
    services, jobs, problems = report.services, report.jobs, report.problems
    if as_json:
        document = {
            "healthy": not problems,
            "problems": problems,
            "services": [dataclasses.asdict(row) for row in services],
            "jobs": [dataclasses.asdict(row) for row in jobs],
            "taskmanagers": [dataclasses.asdict(row) for row in report.taskmanagers],
            "warnings": report.warnings,
            "dedup_state": report.dedup_state,
        }
        typer.echo(json.dumps(document, indent=2))
    else:
        for row in services:
            state = "healthy" if row.is_healthy else ("unhealthy" if row.is_running else "stopped")
            typer.echo(f"{row.name:<14} {state:<10} pid {_fmt(row.pid):<8} {row.detail}")
        if jobs:
            typer.echo(
                f"\n{'job':<12} {'state':<13} {'uptime':>8} {'restarts':>8} {'ckpt age':>9} "
                f"{'ckpt ms':>8} {'ckpt size':>10} {'in/s':>8} {'out/s':>8} {'wm lag':>8} "
                f"{'backpr.':>7} {'kafka lag':>10}"
            )
        for job in jobs:
            lag = job.total_lag if job.kafka_lag else None
            typer.echo(
                f"{job.job:<12} {job.state:<13} {_fmt(job.uptime_s, '.0f', 's'):>8} "
                f"{_fmt(job.restarts):>8} {_fmt(job.checkpoint_age_s, '.1f', 's'):>9} "
                f"{_fmt(job.checkpoint_duration_ms):>8} {_fmt(job.checkpoint_size_bytes, ','):>10} "
                f"{_fmt(job.records_in_per_s, ',.0f'):>8} {_fmt(job.records_out_per_s, ',.0f'):>8} "
                f"{_fmt(job.watermark_lag_s, '.1f', 's'):>8} {_fmt(job.backpressure):>7} "
                f"{_fmt(lag, ','):>10}"
            )
            for partition in job.kafka_lag:
                typer.echo(
                    f"{'':<12} partition {partition.partition}: committed "
                    f"{_fmt(partition.committed_offset, ',')} of {partition.end_offset:,} "
                    f"(lag {partition.lag:,})"
                )
        for tm in report.taskmanagers:
            typer.echo(
                f"\ntaskmanager {tm.taskmanager_id}: heap {tm.heap_used_bytes / 1e6:,.0f} of "
                f"{tm.heap_max_bytes / 1e6:,.0f} MB, GC {_fmt(tm.gc_ms_per_s, '.0f')} ms/s, "
                f"managed {tm.managed_used_bytes / 1e6:,.0f} of {tm.managed_total_bytes / 1e6:,.0f}"
                f" MB, RSS {_fmt(tm.rss_bytes and tm.rss_bytes / 1e6, ',.0f', ' MB')}"
            )
        if report.dedup_state:
            typer.echo(report.dedup_state)
        for warning in report.warnings:
            typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
        for problem in problems:
            typer.secho(f"unhealthy: {problem}", fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)


DBT_SOURCES = (
    Path(__file__).resolve().parent / "dbt_project" / "models" / "staging" / "__sources.yml"
)
# The SQL the dbt project beside it reads the lake of: its sources are checked against this
# project only, not against another sql_dir (a copy under test, a user's own project).
DBT_SQL_DIR = Path(__file__).resolve().parent / "flink_sql"


def _lint(config, paths: list[Path]) -> bool:
    """Print findings as file:line:col RULE message; True when there is none."""
    findings = lint_paths(
        paths,
        params=config.sql_params("lint"),
        dbt_sources_yml=DBT_SOURCES if DBT_SOURCES.exists() else None,
        dbt_sql_dir=DBT_SQL_DIR,
    )
    if findings:
        typer.echo(format_findings(findings), err=True)
    return not findings


@app.command()
def lint(
    paths: list[Path] | None = typer.Argument(
        None, help="SQL files or folders (default: flink_sql/)."
    ),
) -> None:
    """Parse every Flink SQL file and check the pipeline's rules; exit 1 on any error."""
    try:
        config = load_config()
        ok = _lint(config, paths or [config.sql_dir])
    except ERRORS as error:
        _fail(str(error))
    if not ok:
        raise typer.Exit(1)
    typer.echo("flink_sql: no errors")


@app.command()
def lineage(
    column: str = typer.Argument(..., help="table.column, e.g. gold_revenue_per_window.revenue"),
) -> None:
    """Column-level lineage of one column, from the Kafka payload through views to the sink."""
    try:
        config = load_config()
        project = load_project(config.sql_dir, config.sql_params("lineage"))
        typer.echo(column_lineage(column, project).render())
    except (KeyError, ValueError) as error:
        _fail(str(error))


@app.command()
def manifests(
    out: Path | None = typer.Option(
        None, "--out", help="Write one file per document here (default: print them)."
    ),
    jars_image: str | None = typer.Option(
        None, "--jars-image", help="The image docker/flink-jars.Dockerfile built and pushed."
    ),
    storage_class: str | None = typer.Option(
        None, "--storage-class", help="A ReadWriteMany storage class for state and the lake."
    ),
) -> None:
    """Kubernetes manifests from the config: Strimzi's KafkaNodePool, Kafka and KafkaTopic, and a
    FlinkDeployment per job with its SQL in a ConfigMap (docs/scale-out.md). Applies nothing."""
    from stack import manifests as k8s

    try:
        target = k8s.Target(storage_class=storage_class)
        if jars_image:
            target = dataclasses.replace(target, jars_image=jars_image)
        documents = k8s.render(load_config(), target)
    except ERRORS as error:
        _fail(str(error))
    if out is None:
        typer.echo("---\n".join(k8s.to_yaml(document) for document in documents), nl=False)
        return
    for path in k8s.write(documents, out):
        typer.echo(path)


def _selected(config, jobs: list[str] | None) -> list[str]:
    known = job_names(config.sql_dir)
    unknown = sorted(set(jobs or []) - set(known))
    if unknown:
        _fail(f"unknown job(s) {', '.join(unknown)}; jobs are: {', '.join(known)}")
    return jobs or known


def _deploy(
    jobs: list[str] | None = typer.Argument(None, help="Jobs to deploy (default: all)."),
    allow_non_restored_state: bool = typer.Option(
        False,
        "--allow-non-restored-state",
        help="Upgrade even if listed state is dropped or incompatible (those operators start empty).",
    ),
    reset: bool = typer.Option(
        False, "--reset", help="Start the new version from scratch, without any state."
    ),
    from_savepoint: str | None = typer.Option(
        None, "--from-savepoint", help="Start a job that is not running from this savepoint."
    ),
) -> None:
    """Deploy flink_sql/jobs/ as compiled plans: an unchanged job is left alone; a changed one is
    stopped with a savepoint and upgraded from it, keeping every operator's state `plan` says is
    kept, and rolled back on its own if the new version does not run."""
    from pipeline import upgrade

    try:
        config = load_config()
        selected = _selected(config, jobs)
        if not _lint(config, [config.sql_dir]):
            _fail("flink_sql has lint errors (above); nothing was deployed")
        ok = upgrade.deploy_jobs(
            config,
            selected,
            allow_non_restored_state=allow_non_restored_state,
            reset=reset,
            from_savepoint=from_savepoint,
            log=typer.echo,
        )
        typer.echo(f"Flink web UI: {config.rest_url}")
    except ERRORS as error:
        _fail(str(error))
    if not ok:
        raise typer.Exit(1)


app.command("deploy")(_deploy)
app.command("submit", help="The same as `deploy`.")(_deploy)


@app.command()
def history(job: str = typer.Argument(..., help="The job whose versions to list.")) -> None:
    """The recorded versions of a job: when, what changed, from which savepoint, outcome."""
    from pipeline import upgrade

    try:
        config = load_config()
        _selected(config, [job])
        typer.echo("\n".join(upgrade.history(config, job)))
    except ERRORS as error:
        _fail(str(error))


@app.command()
def rollback(job: str = typer.Argument(..., help="The job to roll back.")) -> None:
    """Stop the job with a savepoint and run its previous recorded version from it."""
    from pipeline import upgrade

    try:
        config = load_config()
        _selected(config, [job])
        upgrade.rollback(config, job, log=typer.echo)
    except ERRORS as error:
        _fail(str(error))


@app.command("list")
def list_jobs() -> None:
    """Jobs on the cluster, newest last."""
    try:
        for job in deploy.list_jobs(load_config()):
            typer.echo(f"{job.job_id}  {job.state:<10} {job.name}")
    except ERRORS as error:
        _fail(str(error))


@app.command()
def plan(
    jobs: list[str] | None = typer.Argument(None, help="Jobs to compare (default: all)."),
    explain: bool = typer.Option(False, "--explain", help="Also print Flink's EXPLAIN."),
) -> None:
    """Compare each job with the version that runs: unchanged or changed, the SQL diff by file,
    and per stateful operator whether its state is kept, dropped, new or incompatible. Deploys
    nothing; an unchanged job starts no JVM."""
    from pipeline import upgrade

    try:
        config = load_config()
        changes = upgrade.inspect(config, _selected(config, jobs))
        upgrade.compile_changes(config, changes)
        for change in changes:
            typer.echo(deploy.describe(config, change.job))
            typer.echo("\n".join(upgrade.describe_change(change)))
            if explain:
                typer.echo(deploy.explain(config, change.job))
    except ERRORS as error:
        _fail(str(error))


def _active_ids(jobs: list[str] | None) -> list[tuple[str, str]]:
    config = load_config()
    ids = []
    for name in _selected(config, jobs):
        pipeline_name = deploy.pipeline_name(config, name)
        active = deploy.active_job(config, pipeline_name)
        if active is None:
            typer.echo(f"{name}: not running")
        else:
            ids.append((name, active.job_id))
    return ids


@app.command()
def cancel(
    jobs: list[str] | None = typer.Argument(None, help="Jobs to cancel (default: all)."),
) -> None:
    """Cancel running jobs (no savepoint; the latest checkpoint is retained)."""
    try:
        config = load_config()
        for name, job_id in _active_ids(jobs):
            deploy.cancel(config, job_id)
            typer.echo(f"{name}: cancelled {job_id}")
    except ERRORS as error:
        _fail(str(error))


@app.command()
def stop(
    jobs: list[str] | None = typer.Argument(None, help="Jobs to stop (default: all)."),
) -> None:
    """Stop running jobs with a savepoint; resume with `deploy --from-savepoint PATH`."""
    try:
        config = load_config()
        for name, job_id in _active_ids(jobs):
            location = deploy.stop_with_savepoint(config, job_id)
            typer.echo(f"{name}: stopped {job_id}, savepoint {location}")
    except ERRORS as error:
        _fail(str(error))


@app.command()
def query(
    sql: str = typer.Argument(..., help="DuckDB SQL; each lake table is a view of its name."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Read every table as it was then (UTC): 2026-11-30T10:00 or 10:00."
    ),
    snapshot: list[str] | None = typer.Option(
        None, "--snapshot", help="TABLE=SNAPSHOT_ID: pin one table (see `snapshots TABLE`)."
    ),
    limit: int = typer.Option(50, help="Rows to print at most."),
) -> None:
    """Run SQL over the lake, each table at one snapshot: its current one, the one current at
    --as-of (time travel), or the one --snapshot names."""
    from pipeline import lake_reader

    try:
        config = load_config()
        pinned = {}
        for item in snapshot or []:
            table, _, snapshot_id = item.partition("=")
            if not snapshot_id.isdigit():
                _fail(f"--snapshot {item!r}: expected TABLE=SNAPSHOT_ID")
            pinned[table] = int(snapshot_id)
        moment = lake_reader.parse_as_of(as_of) if as_of else None
        connection = lake_reader.connect(config.lake_root, as_of=moment, snapshots=pinned)
        connection.execute("set TimeZone = 'UTC'")
        relation = connection.sql(sql)
        if relation is None:
            return
        typer.echo(relation.limit(limit).to_df().to_string(index=False))
    except (*ERRORS, lake_reader.LakeReadError) as error:
        _fail(str(error))
    except Exception as error:  # DuckDB's binder/parser errors: the message says what is wrong
        if type(error).__module__.startswith(("duckdb", "_duckdb")):
            _fail(str(error))
        raise


@app.command()
def snapshots(table: str = typer.Argument(..., help="A lake table, e.g. silver_events.")) -> None:
    """A lake table's snapshots, oldest first: one per Flink checkpoint that committed rows, plus
    maintenance and backfills; any of them can be read with `query --as-of/--snapshot`."""
    from pipeline import lake_reader, lake_schema

    if table not in lake_schema.lake_tables():
        _fail(f"no lake table {table}: one of {', '.join(lake_schema.lake_tables())}")
    for info in lake_reader.snapshot_log(load_config().lake_root, table):
        typer.echo(
            f"{info.snapshot_id:>20}  {info.committed_at:%Y-%m-%d %H:%M:%S}  "
            f"{info.operation:<9} +{info.added_files} files +{info.added_rows} rows  "
            f"= {info.total_rows} rows"
        )


@app.command("move-catalog")
def move_catalog(
    to: str = typer.Option(
        ..., "--to", help="The new catalog: postgresql://user@host[:port]/database, or a file."
    ),
) -> None:
    """Register the lake's tables in another catalog (stop the jobs first): then set
    lake_catalog to it and deploy each job --from-savepoint its stop's savepoint."""
    from pipeline import catalog_move
    from stack.lake_catalog import LakeCatalog, LakeCatalogError

    try:
        config = load_config()
        target = LakeCatalog.parse(to)
        running = [
            name
            for name in job_names(config.sql_dir)
            if deploy.active_job(config, deploy.pipeline_name(config, name)) is not None
        ]
        if running:
            _fail(
                f"{', '.join(running)} still commit to {config.lake_iceberg_catalog}: "
                "`jobs.py stop` first (its savepoints are where they resume)"
            )
        catalog_move.move(config.lake_root, config.lake_iceberg_catalog, target, log=typer.echo)
    except (*ERRORS, LakeCatalogError, catalog_move.CatalogMoveError) as error:
        _fail(str(error))
    typer.echo(
        f"Next: set lake_catalog = {to} (clickstream.toml or CLICKSTREAM_LAKE_CATALOG), then "
        "`python jobs.py deploy JOB --from-savepoint PATH` for each job stopped"
    )


@app.command()
def maintain(
    tables: list[str] | None = typer.Argument(None, help="Lake tables (default: all)."),
    min_age_minutes: float = typer.Option(
        lake_maintenance.MIN_AGE.total_seconds() / 60,
        help="Compact only files committed at least this long ago (keep it above the "
        "dashboard's window of recent commits).",
    ),
    keep_snapshots_hours: float = typer.Option(
        lake_maintenance.KEEP_SNAPSHOTS_FOR.total_seconds() / 3600,
        help="Expire snapshots older than this (time travel reaches back this far).",
    ),
    orphan_age_hours: float = typer.Option(
        lake_maintenance.ORPHAN_AGE.total_seconds() / 3600,
        help="Delete unreferenced files older than this (a checkpoint in flight is younger).",
    ),
) -> None:
    """Lake maintenance while the stream runs: per table, compact each partition's small files
    into one, expire old snapshots, delete orphan files. Never changes a row or blocks a writer."""
    from datetime import timedelta

    from pipeline import lake_schema

    unknown = sorted(set(tables or ()) - set(lake_schema.lake_tables()))
    if unknown:
        _fail(f"no lake table {', '.join(unknown)}")
    lake_maintenance.maintain(
        load_config().lake_root,
        tables=tables or None,
        min_age=timedelta(minutes=min_age_minutes),
        keep_snapshots_for=timedelta(hours=keep_snapshots_hours),
        orphan_age=timedelta(hours=orphan_age_hours),
        log=typer.echo,
    )


@app.command()
def demo() -> None:
    """Everything end to end: stack up, jobs deployed, shoppers simulated, gold read back."""
    from pipeline import demo as demo_run

    try:
        demo_run.run(load_config(), log=typer.echo)
    except ERRORS as error:
        _fail(str(error))


@app.command()
def dashboard() -> None:
    """The live dashboard over the lake and the marts, in the foreground (Ctrl-C stops it)."""
    from stack import dashboard as dashboard_service

    try:
        config = load_config()
        typer.echo(f"Dashboard: {config.dashboard_url}  (lake {config.lake_root})")
        dashboard_service.run_foreground(config)
    except ERRORS as error:
        _fail(str(error))


if __name__ == "__main__":
    sys.exit(app())
