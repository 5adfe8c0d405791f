"""The clickstream_marts Airflow DAG (dags/clickstream_marts.py) and the plain functions behind it
(pipeline/marts.py).

The DAG is parsed by a real DagBag and run end to end by `airflow dags test` (a subprocess with its
own AIRFLOW_HOME and SQLite metadata DB) over a small shop lake written here with lake_fixture, the
health check skipped. Expected mart values are computed in this file from the rows written, never
by re-running the models' SQL. Airflow is slow to start, so the metadata DB is migrated once and
the runs are shared by the tests that read them.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from airflow_runner import (
    DAG_ID,
    OFFLINE_CONF,
    ROOT,
    TASK_IDS,
    AirflowRun,
    airflow_env,
    assert_ran,
    migrate,
    new_run,
)
from lake_fixture import (
    copy_lake,
    event,
    late,
    purchase,
    quarantined,
    write_lake,
    write_table,
)

from pipeline import lake_reader, lake_schema
from pipeline.lake import row_counts
from pipeline.marts import DateRange, lake_accounting, rebuilt_dates
from stack.config import load_config

# Logical date 2024-03-03T00:00: the 15-minute interval [2024-03-02 23:45, 2024-03-03 00:00), so
# the run rebuilds and checks 2024-03-02 (its 60-minute lookback stays on that day).
LOGICAL_DATE = "2024-03-03T00:00:00+00:00"
DAY_1, DAY_2 = date(2024, 3, 1), date(2024, 3, 2)
PRODUCTS = {
    "p1": ("electronics.smartphone", "200.00"),
    "p2": ("home.kitchen", "30.00"),
    "p3": ("electronics.audio", "80.00"),
}


# --- a small shop lake, and what its marts must say ----------------------------------------------


@dataclass
class ShopLake:
    """The rows written to a lake: two days of six users browsing and buying."""

    events: list[dict]
    order_items: list[dict]
    duplicates: list[tuple[dict, datetime]]
    quarantine: list[dict]
    late_events: list[dict]


def shop_lake(root: Path, seed: int = 9) -> ShopLake:
    """Each user visits once a day (gaps under 10 minutes: one session per user and day), views,
    carts and removes products, and buys half the time; each day also has a duplicate, a
    quarantined record and a late event."""
    rng = random.Random(seed)
    events: list[dict] = []
    order_items: list[dict] = []
    for day in (DAY_1, DAY_2):
        for user_number in range(1, 7):
            user_id = f"u{user_number}"
            device = {"device_type": rng.choice(["desktop", "mobile", "tablet"])}
            at = datetime.combine(day, time(8 + user_number, rng.randrange(50)))
            for _ in range(rng.randint(2, 6)):
                product_id = rng.choice(sorted(PRODUCTS))
                category, price = PRODUCTS[product_id]
                event_type = rng.choice(["product_view"] * 3 + ["add_to_cart", "remove_from_cart"])
                events.append(
                    event(
                        f"e{len(events):03}",
                        event_type,
                        at,
                        user_id,
                        product_id=product_id,
                        category=category,
                        price=price,
                        quantity=None if event_type == "product_view" else 1,
                        **device,
                    )
                )
                at += timedelta(minutes=rng.randint(1, 9))
            if rng.random() < 0.5:
                lines = [
                    (
                        product_id,
                        PRODUCTS[product_id][0],
                        rng.randint(1, 3),
                        PRODUCTS[product_id][1],
                    )
                    for product_id in rng.sample(sorted(PRODUCTS), rng.randint(1, 2))
                ]
                order, items = purchase(
                    f"e{len(events):03}", at, user_id, f"o{len(events):03}", lines, **device
                )
                events.append(order)
                order_items.extend(items)

    first_of_day = {
        day: next(row for row in events if row["event_date"] == day) for day in (DAY_1, DAY_2)
    }
    lake = ShopLake(
        events=events,
        order_items=order_items,
        duplicates=[
            (row, row["ingested_at"] + timedelta(minutes=3)) for row in first_of_day.values()
        ],
        quarantine=[
            quarantined("{not json", "invalid_json", datetime.combine(day, time(12)))
            for day in (DAY_1, DAY_2)
        ],
        late_events=[
            late(
                event(
                    f"late{day.day}",
                    "product_view",
                    datetime.combine(day, time(7)),
                    "u9",
                    product_id="p1",
                ),
                datetime.combine(day, time(16)),
            )
            for day in (DAY_1, DAY_2)
        ],
    )
    write_lake(
        root,
        lake.events,
        lake.order_items,
        duplicates=lake.duplicates,
        quarantine=lake.quarantine,
        late_events=lake.late_events,
    )
    return lake


def expected_product_days(lake: ShopLake, day: date) -> list[tuple]:
    """product_performance for one day: (product_id, event_date, view_count, viewer_count,
    add_to_cart_count, remove_from_cart_count, order_count, units_sold, revenue)."""
    counts: dict[str, list] = defaultdict(lambda: [0, set(), 0, 0, set(), 0, Decimal("0.00")])
    for row in lake.events:
        if row["event_date"] != day or row["product_id"] is None:
            continue
        product = counts[row["product_id"]]
        if row["event_type"] == "product_view":
            product[0] += 1
            product[1].add(row["user_id"])
        product[2] += row["event_type"] == "add_to_cart"
        product[3] += row["event_type"] == "remove_from_cart"
    for item in lake.order_items:
        if item["event_at"].date() == day:
            product = counts[item["product_id"]]
            product[4].add(item["order_id"])
            product[5] += item["quantity"]
            product[6] += item["line_total"]
    return sorted(
        (product_id, day, views, len(viewers), carts, removes, len(orders), units, revenue)
        for product_id, (views, viewers, carts, removes, orders, units, revenue) in counts.items()
    )


def expected_sessions(lake: ShopLake, day: date) -> list[tuple]:
    """sessions started on `day`: (user_id, session_date, started_at, ended_at, event_count); one
    per user and day, since a user's visit never pauses 30 minutes."""
    visits: dict[str, list[datetime]] = defaultdict(list)
    for row in lake.events:
        if row["event_date"] == day:
            visits[row["user_id"]].append(row["event_at"])
    return sorted(
        (user_id, day, min(times), max(times), len(times)) for user_id, times in visits.items()
    )


def expected_quality(lake: ShopLake) -> list[tuple]:
    """data_quality_daily: (ingested_date, bronze, silver, quarantined, late, duplicates)."""
    silver = defaultdict(int)
    for row in lake.events:
        silver[row["ingested_at"].date()] += 1
    duplicates = defaultdict(int)
    for _, ingested_at in lake.duplicates:
        duplicates[ingested_at.date()] += 1
    quarantine = defaultdict(int)
    for row in lake.quarantine:
        quarantine[row["ingested_at"].date()] += 1
    late_count = defaultdict(int)
    for row in lake.late_events:
        late_count[row["ingested_at"].date()] += 1
    days = sorted({*silver, *duplicates, *quarantine, *late_count})
    return [
        (
            day,
            silver[day] + quarantine[day] + late_count[day] + duplicates[day],
            silver[day],
            quarantine[day],
            late_count[day],
            duplicates[day],
        )
        for day in days
    ]


# --- running Airflow -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory) -> Path:
    """An AIRFLOW_HOME with a migrated SQLite metadata DB, copied by every run (migrating once)."""
    return migrate(tmp_path_factory.mktemp("airflow-home"))


@pytest.fixture(scope="module")
def shop(tmp_path_factory, migrated_home) -> tuple[AirflowRun, ShopLake]:
    """The DAG run for 2024-03-02 over the shop lake, on an empty warehouse."""
    run = new_run(tmp_path_factory.mktemp("shop"), migrated_home)
    lake = shop_lake(run.lake)
    run.run(OFFLINE_CONF, LOGICAL_DATE)
    return run, lake


@pytest.fixture(scope="module")
def broken(tmp_path_factory, migrated_home, shop) -> AirflowRun:
    """The same date run again over a copy of the shop lake and warehouse, plus one bronze record
    of 2024-03-02 that no silver, quarantine or late row accounts for and is no duplicate."""
    shop_run, _ = shop
    run = new_run(tmp_path_factory.mktemp("broken"), migrated_home)
    copy_lake(shop_run.lake, run.lake)
    shutil.copy(shop_run.warehouse, run.warehouse)
    write_table(
        run.lake,
        "bronze/events",
        [
            {
                "raw_payload": '{"event_id": "lost-1", "event_type": "page_view"}',
                "kafka_key": "u1",
                "kafka_topic": "clickstream.events",
                "kafka_partition": 2,
                "kafka_offset": 4242,
                "kafka_timestamp": datetime(2024, 3, 2, 18, 0, 0),
                "ingested_at": datetime(2024, 3, 2, 18, 0, 1),
            }
        ],
    )
    run.run(OFFLINE_CONF, LOGICAL_DATE)
    return run


# --- (a) the DAG parses --------------------------------------------------------------------------

DAGBAG_REPORT = """
import json
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder="{dags}")
dag = bag.dags.get("{dag_id}")
print(json.dumps({{
    "import_errors": {{str(path): str(error) for path, error in bag.import_errors.items()}},
    "dag_ids": sorted(bag.dags),
    "has_doc_md": bool(dag and dag.doc_md),
    "max_active_runs": dag and dag.max_active_runs,
    "catchup": dag and dag.catchup,
    "timetable": dag and type(dag.timetable).__name__,
    "expression": dag and dag.timetable.expression,
    "params": dag and {{name: dag.params[name] for name in dag.params}},
    "tasks": dag and [
        {{
            "task_id": task.task_id,
            "upstream": sorted(task.upstream_task_ids),
            "retries": task.retries,
            "retry_exponential_backoff": task.retry_exponential_backoff,
            "retry_delay_s": task.retry_delay.total_seconds(),
            "max_retry_delay_s": task.max_retry_delay.total_seconds(),
            "trigger_rule": task.trigger_rule.value,
            "max_active_tis_per_dag": task.max_active_tis_per_dag,
            "has_doc_md": bool(task.doc_md),
        }}
        for task in dag.topological_sort()
    ],
}}))
"""


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("airflow-dagbag")
    result = subprocess.run(
        [sys.executable, "-c", DAGBAG_REPORT.format(dags=ROOT / "dags", dag_id=DAG_ID)],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dag_imports_without_errors(dagbag):
    assert dagbag["import_errors"] == {}
    assert dagbag["dag_ids"] == [DAG_ID]
    assert dagbag["has_doc_md"]
    assert dagbag["max_active_runs"] == 1
    assert dagbag["catchup"] is False
    assert dagbag["timetable"] == "CronDataIntervalTimetable"
    assert dagbag["expression"] == "*/15 * * * *"
    assert dagbag["params"] == {
        "require_healthy_pipeline": True,
        "require_fresh_sources": True,
        "lookback_minutes": 60,
        "settle_minutes": 2,
        "dbt_vars": {},
    }


def test_dag_tasks_run_in_order_with_retries(dagbag):
    tasks = dagbag["tasks"]
    assert [task["task_id"] for task in tasks] == TASK_IDS
    assert [task["upstream"] for task in tasks] == [[], *([task_id] for task_id in TASK_IDS[:-1])]
    for task in tasks:
        assert task["has_doc_md"], task["task_id"]
        assert task["retries"] == 3
        assert task["retry_exponential_backoff"] == 2.0
        assert (task["retry_delay_s"], task["max_retry_delay_s"]) == (60, 900)
    by_id = {task["task_id"]: task for task in tasks}
    # A skipped health check must not skip the rest; one build at a time across runs.
    assert by_id["dbt_source_freshness"]["trigger_rule"] == "none_failed"
    assert by_id["dbt_build"]["max_active_tis_per_dag"] == 1
    # Maintenance runs whatever the quality check found.
    assert by_id["maintain_lake"]["trigger_rule"] == "all_done"


# --- (b) a run rebuilds its date -----------------------------------------------------------------


@pytest.mark.integration
def test_run_succeeds_with_the_health_check_skipped(shop):
    run, _ = shop
    assert_ran(
        run,
        {
            "check_pipeline_health": "skipped",
            "dbt_source_freshness": "success",
            "dbt_build": "success",
            "check_data_quality": "success",
            "maintain_lake": "success",
        },
    )
    assert run.xcom("dbt_build") == {"start_date": "2024-03-02", "end_date": "2024-03-02"}
    # dbt got the typed config's semantic settings, the ones the Flink jobs are rendered with
    dbt_vars = {**load_config().dbt_vars(), **run.xcom("dbt_build")}
    assert f"dbt build --vars {json.dumps(dbt_vars)}" in run.output
    # The lake is two years old: every checked table is stale, logged, not fatal.
    assert {source["status"] for source in run.xcom("dbt_source_freshness")} == {"error"}
    # Maintenance went over every table the lake has, changing no row count.
    maintained = {report["table"]: report for report in run.xcom("maintain_lake")}
    counts = row_counts(run.lake)
    existing = {t for t in lake_schema.lake_tables() if lake_reader.load(run.lake, t) is not None}
    assert existing and set(maintained) == existing
    assert all(report["rows"] == counts[table] for table, report in maintained.items())


@pytest.mark.integration
def test_run_builds_the_logical_dates_marts(shop):
    run, lake = shop
    assert run.rows(
        """
        select product_id, event_date, view_count, viewer_count, add_to_cart_count,
            remove_from_cart_count, order_count, units_sold, revenue
        from product_performance order by all
        """
    ) == expected_product_days(lake, DAY_2)
    assert run.rows(
        "select user_id, session_date, started_at, ended_at, event_count from sessions order by all"
    ) == expected_sessions(lake, DAY_2)
    # Only the run's date was built: day 1's events are in the lake, not in the marts.
    assert run.rows("select distinct event_date from funnel_daily") == [(DAY_2,)]
    # data_quality_daily is a full rebuild (it only counts rows): both days.
    assert run.rows(
        """
        select ingested_date, bronze_record_count, silver_event_count, quarantined_record_count,
            late_event_count, duplicate_record_count
        from data_quality_daily order by ingested_date
        """
    ) == expected_quality(lake)


@pytest.mark.integration
def test_run_records_the_accounting_identity(shop):
    run, lake = shop
    day_2 = next(row for row in expected_quality(lake) if row[0] == DAY_2)
    _, bronze, silver, quarantined_count, late_count, duplicates = day_2
    assert run.xcom("check_data_quality") == [
        {
            "ingested_date": "2024-03-02",
            "bronze_record_count": bronze,
            "silver_event_count": silver,
            "quarantined_record_count": quarantined_count,
            "late_event_count": late_count,
            "duplicate_record_count": duplicates,
            "unaccounted_record_count": 0,
            "rows_without_bronze_count": 0,
            "unaccounted_examples": [],
            "is_balanced": True,
        }
    ]
    assert f"2024-03-02: bronze {bronze} = silver {silver}" in run.output


# --- (c) a broken identity fails the quality task ------------------------------------------------


@pytest.mark.integration
def test_broken_identity_fails_the_quality_task_only(broken, shop):
    assert_ran(
        broken,
        {
            "check_pipeline_health": "skipped",
            "dbt_source_freshness": "success",
            "dbt_build": "success",
            "check_data_quality": "failed",
            "maintain_lake": "success",
        },
    )
    _, lake = shop
    day_2 = next(row for row in expected_quality(lake) if row[0] == DAY_2)
    bronze, accounted = day_2[1] + 1, day_2[1]
    assert f"2024-03-02: bronze {bronze} != silver {day_2[2]}" in broken.output
    assert f"(= {accounted}): BROKEN" in broken.output
    assert "1 bronze record(s) with no silver, quarantine or late row" in broken.output
    assert "partition:offset 2:4242" in broken.output
    # Failed at once (AirflowFailException), not left waiting for a retry.
    assert broken.metadata(
        "select try_number from task_instance where task_id = 'check_data_quality'"
    ) == [(1,)]


@pytest.mark.integration
def test_rerunning_a_date_leaves_its_marts_unchanged(broken, shop):
    """The broken run rebuilt 2024-03-02 over the shop warehouse: the date-partitioned marts are
    replaced, not appended to (only data_quality_daily sees the extra bronze record)."""
    shop_run, _ = shop
    for mart in ("sessions", "funnel_daily", "product_performance", "user_funnel"):
        query = f"select * from {mart} order by all"
        assert broken.rows(query) == shop_run.rows(query), mart


# --- the plain functions -------------------------------------------------------------------------


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "lookback_minutes", "expected"),
    [
        ("2024-03-02 10:00", "2024-03-02 10:15", 60, (DAY_2, DAY_2)),
        # the first runs after midnight finish the previous day
        ("2024-03-02 00:00", "2024-03-02 00:15", 60, (DAY_1, DAY_2)),
        ("2024-03-02 00:45", "2024-03-02 01:00", 60, (DAY_1, DAY_2)),
        ("2024-03-02 01:00", "2024-03-02 01:15", 60, (DAY_2, DAY_2)),
        # an interval ending at midnight does not touch the next day
        ("2024-03-01 23:45", "2024-03-02 00:00", 0, (DAY_1, DAY_1)),
        ("2024-03-01 00:00", "2024-03-03 00:00", 0, (DAY_1, DAY_2)),
    ],
)
def test_rebuilt_dates(start, end, lookback_minutes, expected):
    date_range = rebuilt_dates(at(start), at(end), timedelta(minutes=lookback_minutes))
    assert (date_range.start_date, date_range.end_date) == expected


def test_accounting_balances_for_a_consistent_lake(tmp_path):
    lake = shop_lake(tmp_path)
    accounting = lake_accounting(str(tmp_path), DateRange(DAY_1, DAY_2), at("2024-03-03 00:00"))
    assert [
        (
            day.ingested_date,
            day.bronze_record_count,
            day.silver_event_count,
            day.quarantined_record_count,
            day.late_event_count,
            day.duplicate_record_count,
        )
        for day in accounting
    ] == expected_quality(lake)
    assert all(day.is_balanced for day in accounting)


def test_accounting_counts_only_records_ingested_before_the_cutoff(tmp_path):
    lake = shop_lake(tmp_path)
    (day_2,) = lake_accounting(str(tmp_path), DateRange(DAY_2, DAY_2), at("2024-03-02 12:00"))
    silver_before_noon = sum(
        row["event_date"] == DAY_2 and row["ingested_at"].hour < 12 for row in lake.events
    )
    assert day_2.silver_event_count == silver_before_noon
    assert (day_2.quarantined_record_count, day_2.late_event_count) == (0, 0)  # 12:00 and 16:00
    assert day_2.is_balanced


def test_accounting_finds_rows_without_a_bronze_record(tmp_path):
    shop_lake(tmp_path)
    stray = event("stray", "page_view", datetime(2024, 3, 2, 20, 0), "u1")
    stray.update(kafka_partition=1, kafka_offset=777)
    write_table(tmp_path, "silver/events", [stray])
    (day_2,) = lake_accounting(str(tmp_path), DateRange(DAY_2, DAY_2), at("2024-03-03 00:00"))
    assert day_2.rows_without_bronze_count == 1
    assert not day_2.is_balanced
    assert "1 silver/quarantine/late row(s) whose record is not in bronze" in day_2.describe()


def test_accounting_of_an_empty_lake_is_zero_and_balanced(tmp_path):
    (day,) = lake_accounting(str(tmp_path), DateRange(DAY_2, DAY_2), at("2024-03-03 00:00"))
    assert (day.bronze_record_count, day.is_balanced) == (0, True)
