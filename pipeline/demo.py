"""`make demo`: the stack up, the pipeline deployed, shoppers simulated into Kafka, the lake
read back with DuckDB as the gold tables fill in, and the live dashboard on top."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import stack
from generator.cli import generate
from pipeline import lake, upgrade
from sqlcheck.project import job_names
from stack import dashboard
from stack.config import Config
from stack.processes import StackError, wait_until

DEMO_EVENTS = 60_000
DEMO_RATE = 3_000  # records per wall-clock second
DEMO_SIM_RATE = 100  # records per simulated second: 10 minutes of shop traffic in 20 s


def run(config: Config, log=print) -> None:
    log("==> 1/4 local stack and dashboard")
    stack.up(config, log=log)
    if dashboard.start(config):
        log(f"dashboard: starting on {config.dashboard_url}")
    dashboard.wait_healthy(config)
    log(f"    Flink web UI: {config.rest_url}")
    log(f"    Dashboard:    {config.dashboard_url}")

    log(
        "==> 2/4 deploying flink_sql/jobs (recorded versions: `jobs.py plan` / `deploy` upgrade them)"
    )
    upgrade.deploy_jobs(config, job_names(config.sql_dir), log=lambda line: log(f"    {line}"))

    log(f"==> 3/4 simulating {DEMO_EVENTS:,} shop events into {config.kafka_topic}")
    span = timedelta(seconds=DEMO_EVENTS / DEMO_SIM_RATE)
    start_at = datetime.now(UTC) - span
    before = lake.row_counts(config.lake_root)["gold_events_per_minute"]
    generate(
        count=DEMO_EVENTS,
        rate=DEMO_RATE,
        sim_rate=DEMO_SIM_RATE,
        start_at=start_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        bootstrap_servers=config.bootstrap_servers,
        topic=config.kafka_topic,
        seed=int(time.time()),
        bot_rate=0.01,
    )

    log("==> 4/4 waiting for gold windows to be committed (a snapshot per checkpoint)")
    filled = wait_until(
        lambda: lake.row_counts(config.lake_root)["gold_events_per_minute"] > before + 20,
        timeout_s=120,
        interval_s=2,
    )
    if not filled:
        raise StackError("no gold rows were committed within 120 s; see `python jobs.py list`")
    show(config, log)
    log("")
    log(f"Flink web UI (the jobs, running): {config.rest_url}")
    log(
        f"Dashboard (live, refreshes every {config.dashboard_refresh_seconds} s): {config.dashboard_url}"
    )
    sizes = " / ".join(str(m) for m in (config.window_minutes, *config.rollup_minutes))
    log(f"  its Resolution picker shows active users, revenue and devices per {sizes} minutes")
    log(
        f"  its Live sessions panel fills once sessions close, {config.session_timeout_minutes} "
        "min of event time after their last event: keep events coming"
    )
    log("More events: python jobs.py generate --rate 500   Stop everything: python jobs.py down")


def show(config: Config, log=print) -> None:
    """Layer counts and the newest gold rows, read from the lake with DuckDB."""
    counts = lake.row_counts(config.lake_root)
    log("")
    log(f"lake at {config.lake_root} (Iceberg, current snapshots, read with DuckDB):")
    for table, count in counts.items():
        log(f"    {table:<38} {count:>9,} rows")
    connection = lake.connect(config.lake_root)
    for title, sql in (
        (
            "events per minute (newest windows)",
            "pivot (select window_start, event_type, event_count from gold_events_per_minute "
            "where window_start >= (select max(window_start) - interval 4 minute "
            "from gold_events_per_minute)) on event_type using sum(event_count)::bigint "
            "order by window_start",
        ),
        (
            "revenue per window (newest)",
            "select window_start, order_count, revenue from gold_revenue_per_window "
            "order by window_start desc limit 5",
        ),
        (
            "high-interest, low-conversion products (their newest flagged sliding window)",
            "select product_id, arg_max(view_count, window_end) as views, "
            "arg_max(purchase_count, window_end) as purchases, "
            "round(arg_max(conversion_rate, window_end), 4) as conversion, "
            "round(arg_max(baseline_conversion_rate, window_end), 4) as rest_of_shop, "
            "round(arg_max(conversion_upper_bound, window_end), 4) as upper_bound, "
            "count(*) as flagged_windows "
            "from gold_high_interest_products where is_high_interest_low_conversion "
            "group by product_id order by views desc limit 5",
        ),
        (
            "active users and revenue per rollup window (newest; a window appears once it closed)",
            "select users.window_minutes, users.window_start, users.active_users, "
            "coalesce(orders.order_count, 0) as order_count, orders.revenue "
            "from gold_active_users_per_rollup_window as users "
            "left join gold_revenue_per_rollup_window as orders using (window_minutes, window_start) "
            "order by users.window_start desc, users.window_minutes limit 6",
        ),
    ):
        log("")
        log(title + ":")
        try:
            log(str(connection.sql(sql)))
        except Exception as error:  # a table with no committed files yet
            log(f"    (nothing yet: {str(error).splitlines()[0]})")
