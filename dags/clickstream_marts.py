"""
### clickstream_marts — keep the dbt marts fresh

Every interval (default 15 minutes; `CLICKSTREAM_MARTS_SCHEDULE`, a cron expression or preset,
read when the DAG is parsed), for the interval's UTC dates:

1. **check_pipeline_health** — `python jobs.py status` must exit 0 (skipped with
   `require_healthy_pipeline: false`, for backfills over a lake no stack is writing);
2. **dbt_source_freshness** — `dbt source freshness` over the lake tables that have files
   (stale tables only logged with `require_fresh_sources: false`);
3. **dbt_build** — `dbt build --vars '{start_date: …, end_date: …, window_minutes: …}'`: the
   incremental marts replace those dates' partitions, so re-running a date is idempotent; the
   semantic settings (window size, HILC thresholds, session timeout) are `stack.config`'s, as the
   Flink jobs have them;
4. **check_data_quality** — per ingestion date, record by record:
   `bronze = silver + quarantine + late + duplicates`; the summary is the task's XCom, and a
   broken identity fails the task at once (no retries), with the numbers;
5. **maintain_lake** — whatever the tasks before it did: `jobs.py maintain`'s work
   (`pipeline/lake_maintenance.py`): each lake table's small files committed over two hours ago
   compacted, snapshots older than six hours expired, orphan files older than a day deleted; no
   row changes and the Flink jobs are never blocked. Its XCom: files before and after per table.
   A lake on S3 the same way.

The dates are those of the data interval, widened back by `lookback_minutes` (60), so the first
runs after midnight finish the previous day. Lake root and settings: `stack.config`
(`clickstream.toml` or `CLICKSTREAM_CONFIG`, then `CLICKSTREAM_*`; lake default `./lake`); the warehouse is dbt's (`DBT_DUCKDB_PATH`, default `clickstream.duckdb` beside
the lake). Backfill a date range (one run per interval, one at a time):

    airflow backfill create --dag-id clickstream_marts --from-date 2024-03-01 --to-date 2024-03-02 \
        --max-active-runs 1 --dag-run-conf '{"require_healthy_pipeline": false, "require_fresh_sources": false}'

See docs/airflow.md.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.sdk import (
    CronDataIntervalTimetable,
    Param,
    TriggerRule,
    chain,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

# The repository this file lives in: pipeline/, stack/, jobs.py and dbt_project/ are found from
# here, wherever Airflow's dags_folder is.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DAG_ID = "clickstream_marts"
# Read when the DAG is parsed: the schedule, and whether runs check the local stack by default
# (off where jobs.py cannot see the stack's processes, e.g. in docker compose).
SCHEDULE = os.environ.get("CLICKSTREAM_MARTS_SCHEDULE", "*/15 * * * *")
REQUIRE_HEALTHY_PIPELINE = (
    os.environ.get("CLICKSTREAM_MARTS_REQUIRE_HEALTHY_PIPELINE", "true").lower() != "false"
)


def _interval() -> tuple[datetime, datetime]:
    """The run's data interval; a manual run without a logical date covers the moment it ran."""
    context = get_current_context()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        start = end = context["dag_run"].run_after
    return start, end


def _config():
    """The typed config (stack/config.py: defaults, clickstream.toml, CLICKSTREAM_*), loaded when a
    task runs: the lake, and the semantic settings dbt gets as vars, are the Flink jobs' own."""
    from stack.config import load_config

    return load_config()


def _lake_root() -> str:
    return _config().lake_root


def _dates():
    from pipeline import marts

    params = get_current_context()["params"]
    start, end = _interval()
    return marts.rebuilt_dates(start, end, timedelta(minutes=int(params["lookback_minutes"])))


@task(task_id="check_pipeline_health")
def check_pipeline_health() -> None:
    """`python jobs.py status` exits 0: both Flink jobs RUNNING, checkpoints on time, no high
    backpressure. Otherwise the marts would be built over a lake that is missing data; retried
    with backoff (a restarting job recovers). Skipped when `require_healthy_pipeline` is false."""
    from pipeline import marts

    if not get_current_context()["params"]["require_healthy_pipeline"]:
        raise AirflowSkipException("require_healthy_pipeline is false: not checking the stack")
    marts.check_pipeline_health()


@task(task_id="dbt_source_freshness", trigger_rule=TriggerRule.NONE_FAILED)
def dbt_source_freshness() -> list[dict]:
    """`dbt source freshness` over the lake tables that have committed files (warn after 1 h,
    error after 1 day; __sources.yml). Fails on stale tables unless `require_fresh_sources` is
    false. Runs even when the health check was skipped, not when it failed."""
    from pipeline import marts

    is_required = bool(get_current_context()["params"]["require_fresh_sources"])
    results = marts.check_source_freshness(_lake_root(), is_required=is_required)
    return [vars(result) for result in results]


@task(task_id="dbt_build", max_active_tis_per_dag=1, execution_timeout=timedelta(hours=1))
def dbt_build() -> dict[str, str]:
    """`dbt build` of the run's dates: models and their tests, the date-partitioned marts
    replacing those dates (idempotent), with the config's semantic settings as vars
    (window_minutes, hilc_*, session_timeout_minutes). One at a time across all runs and
    backfills: DuckDB lets one process write the warehouse."""
    from pipeline import marts

    date_range = _dates()
    extra_vars = get_current_context()["params"]["dbt_vars"] or {}
    marts.build_marts(_config(), date_range, extra_vars)
    return date_range.dbt_vars()


@task(task_id="check_data_quality")
def check_data_quality() -> list[dict]:
    """The accounting identity for each of the run's dates, matching every bronze record to its
    silver, quarantine or late row or a duplicate, over records ingested `settle_minutes` before
    the interval's end (newer ones may not be committed everywhere yet). Records the per-date
    summary (XCom) and fails loudly, without retries, when it does not hold."""
    from pipeline import marts

    params = get_current_context()["params"]
    _, end = _interval()
    # A plain datetime: arithmetic on Airflow's pendulum ones can drop the time zone.
    interval_end = datetime.fromtimestamp(end.timestamp(), UTC)
    ingested_before = interval_end - timedelta(minutes=int(params["settle_minutes"]))
    try:
        accounting = marts.check_accounting_identity(_lake_root(), _dates(), ingested_before)
    except marts.AccountingIdentityBroken as error:
        raise AirflowFailException(str(error)) from error
    return [day.as_record() for day in accounting]


@task(task_id="maintain_lake", trigger_rule=TriggerRule.ALL_DONE)
def maintain_lake() -> list[dict]:
    """Lake maintenance, as `jobs.py maintain` does it with its defaults: compaction of the small
    files each checkpoint adds, snapshot expiry, orphan cleanup (docs/lake.md, "Maintenance").
    Runs whatever the checks before it found: the files keep coming either way."""
    from pipeline import lake_maintenance

    reports = lake_maintenance.maintain(_lake_root(), log=print)
    return [dataclasses.asdict(report) for report in reports]


@dag(
    dag_id=DAG_ID,
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["clickstream", "dbt", "iceberg"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=15),
    },
    params={
        "require_healthy_pipeline": Param(
            REQUIRE_HEALTHY_PIPELINE,
            type="boolean",
            description="Fail unless `jobs.py status` exits 0. Turn off for backfills over a "
            "lake no running stack is writing.",
        ),
        "require_fresh_sources": Param(
            True,
            type="boolean",
            description="Fail when dbt source freshness finds a stale lake table; off: log it.",
        ),
        "lookback_minutes": Param(
            60,
            type="integer",
            minimum=0,
            description="Also rebuild the dates of this much time before the interval.",
        ),
        "settle_minutes": Param(
            2,
            type="integer",
            minimum=0,
            description="The quality check counts records ingested this long before the "
            "interval's end; newer ones may not be in every lake table yet.",
        ),
        "dbt_vars": Param(
            {},
            type="object",
            description="Extra dbt vars, over the config's (e.g. hilc_min_views); start_date "
            "and end_date are always the run's dates.",
        ),
    },
)
def clickstream_marts() -> None:
    chain(
        check_pipeline_health(),
        dbt_source_freshness(),
        dbt_build(),
        check_data_quality(),
        maintain_lake(),
    )


clickstream_marts()
