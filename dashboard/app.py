"""The live dashboard: the gold windows, anomalies and data quality of the Iceberg lake, the
pipeline's health (the same check as `jobs.py status`) and the dbt marts. Start it with
`python jobs.py dashboard`; it re-reads everything every `dashboard_refresh_seconds`.

Each panel sits in a keyed container (CSS class `st-key-<key>`) and shows its numbers as metrics
and small tables, which the browser test reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard import queries
from pipeline import health, lake_schema
from stack.config import ConfigError, load_config
from stack.processes import StackError

st.set_page_config(page_title="clickstream dashboard", layout="wide")

try:
    config = load_config()
except ConfigError as error:
    st.error(f"configuration error: {error}")
    st.stop()


def money(value) -> str:
    return f"{float(value):,.2f}"


def rate(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.1%}"


def shown(value, spec: str = "", unit: str = "") -> str:
    """As `jobs.py status` prints it: '-' for no value."""
    return "-" if value is None else f"{value:{spec}}{unit}"


def show_table(frame: pd.DataFrame, index: str, formats: dict[str, object]) -> None:
    """A small HTML table (text, unlike st.dataframe's canvas) keyed by `index`."""
    shown = frame.copy()
    for column, style in formats.items():
        shown[column] = shown[column].map(style)
    st.table(shown.set_index(index))


def no_files(table: str) -> None:
    """The empty state of a panel over the lake table `table` (its Flink name), by its folder."""
    folder = lake_schema.lake_tables()[table].folder
    st.info(
        f"No committed files in `{folder}` yet: Flink commits a table's files (an Iceberg "
        "snapshot) when a checkpoint completes."
    )


def resolution_picker() -> queries.Resolution:
    """The window size the active users, revenue and device panels show: window_minutes or a
    rollup size (docs/lake.md, "Window sizes")."""
    with st.container(key="resolution"):
        return st.radio(
            "Resolution",
            queries.resolutions(config),
            format_func=lambda resolution: resolution.label,
            horizontal=True,
            key="resolution-picker",
            help="The size of the windows the active users, revenue and device panels show.",
        )


def traffic_panels(lake, resolution: queries.Resolution) -> None:
    left, right = st.columns(2)
    with left, st.container(key="events"):
        st.subheader("Events per minute by event type")
        per_minute = queries.events_per_minute(lake)
        if per_minute.empty:
            no_files("gold_events_per_minute")
        else:
            st.bar_chart(per_minute, x="window_start", y="event_count", color="event_type")
            show_table(queries.events_by_type(lake), "event_type", {"event_count": "{:,}".format})
    with right, st.container(key="active-users"):
        st.subheader("Active users per window")
        st.caption(f"Distinct users per {resolution.label} window.")
        active = queries.active_users_per_window(lake, resolution)
        if active.empty:
            no_files(resolution.table("active_users"))
        else:
            newest, peak = st.columns(2)
            newest.metric("Active users, newest window", f"{active['active_users'].iloc[-1]:,}")
            peak.metric("Peak active users per window", f"{active['active_users'].max():,}")
            st.line_chart(active, x="window_start", y="active_users")


def revenue_panels(lake, resolution: queries.Resolution) -> None:
    left, right = st.columns(2)
    with left, st.container(key="revenue"):
        st.subheader("Revenue per window")
        st.caption(f"Orders and revenue per {resolution.label} window.")
        totals = queries.revenue_totals(lake, resolution)
        if not totals.window_count:
            no_files(resolution.table("revenue"))
        else:
            revenue, orders, windows = st.columns(3)
            revenue.metric("Revenue, last hour", money(totals.revenue))
            orders.metric("Orders, last hour", f"{totals.order_count:,}")
            windows.metric("Windows with orders", f"{totals.window_count:,}")
            st.bar_chart(
                queries.revenue_per_window(lake, resolution), x="window_start", y="revenue"
            )
            by_category = queries.revenue_by_category(lake)
            if not by_category.empty:
                st.bar_chart(
                    queries.revenue_by_category_per_window(lake),
                    x="window_start",
                    y="revenue",
                    color="category",
                )
                show_table(by_category, "category", {"items_sold": "{:,}".format, "revenue": money})
    with right, st.container(key="devices"):
        st.subheader("Purchases and revenue by device")
        by_device = queries.purchases_by_device(lake, resolution)
        if by_device.empty:
            no_files(resolution.table("purchases_by_device"))
        else:
            st.bar_chart(by_device, x="device_type", y="revenue")
            show_table(
                by_device, "device_type", {"purchase_count": "{:,}".format, "revenue": money}
            )


def live_sessions_panel(lake) -> None:
    with st.container(key="live-sessions"):
        st.subheader("Live sessions")
        st.caption(
            f"Sessions the stream closed ({config.session_timeout_minutes} min without an event) "
            "in the last hour of windows, by the device of their first event."
        )
        by_device = queries.live_sessions_by_device(lake)
        if by_device.empty:
            st.info(
                "No session has closed yet: the stream closes a session once its event time is "
                f"{config.session_timeout_minutes} min past the session's last event (after "
                "`make demo`, keep `python jobs.py generate` running to see them)."
            )
            return
        closed = int(by_device["sessions_closed"].sum())
        count, bounced, converted = st.columns(3)
        count.metric("Sessions closed, last hour", f"{closed:,}")
        bounced.metric(
            "Bounce rate",
            rate((by_device["bounce_rate"] * by_device["sessions_closed"]).sum() / closed),
        )
        converted.metric(
            "Session conversion, live",
            rate((by_device["conversion_rate"] * by_device["sessions_closed"]).sum() / closed),
        )
        per_window = queries.sessions_closed_per_window(lake)
        if not per_window.empty:
            st.bar_chart(per_window, x="window_start", y="sessions_closed", color="device_type")
        seconds = "{:,.1f} s".format
        show_table(
            by_device,
            "device_type",
            {
                "sessions_closed": "{:,}".format,
                "median_duration_seconds": seconds,
                "p90_duration_seconds": seconds,
                "bounce_rate": rate,
                "conversion_rate": rate,
            },
        )


def anomaly_panels(lake) -> None:
    left, right = st.columns(2)
    with left, st.container(key="bots"):
        st.subheader("Bot suspects")
        st.caption(f"Users above {config.bot_events_per_minute} events in a minute.")
        bots = queries.bot_suspects(lake)
        if bots.empty:
            st.info("No bot suspects in the last hour of windows.")
        else:
            st.metric("Bot suspects", f"{len(bots):,}")
            show_table(
                bots,
                "user_id",
                {"last_flagged_at": lambda at: f"{at:%Y-%m-%d %H:%M}"},
            )
    with right, st.container(key="hilc"):
        st.subheader("High interest, low conversion products")
        st.caption(
            f"At least {config.hilc_min_views} views in a {config.hilc_window_minutes}-minute "
            f"window (sliding every {config.hilc_slide_minutes} min), and at "
            f"{config.hilc_confidence:.0%} confidence a conversion below "
            f"{config.hilc_conversion_ratio:.0%} of the rest of the shop's. Evidence from the "
            "newest window that flagged each product."
        )
        products = queries.high_interest_low_conversion(lake)
        if products.empty:
            st.info("No product flagged in the last hour of windows.")
        else:
            st.metric("Flagged products", f"{len(products):,}")
            percent = "{:.2%}".format
            show_table(
                products,
                "product_id",
                {
                    "last_flagged_at": lambda at: f"{at:%Y-%m-%d %H:%M}",
                    "view_count": "{:,}".format,
                    "purchase_count": "{:,}".format,
                    "conversion_rate": percent,
                    "baseline_conversion_rate": percent,
                    "conversion_upper_bound": percent,
                    "confidence": "{:.0%}".format,
                },
            )


def quality_panels(lake_root: str) -> None:
    outcomes = queries.record_outcomes(lake_root)
    left, right = st.columns(2)
    with left, st.container(key="quality"):
        st.subheader("Data quality")
        minutes = len(outcomes.per_minute)
        if minutes:
            quality_totals(outcomes, minutes)
        else:
            no_files(queries.RECORD_OUTCOMES)
    with right, st.container(key="quarantine"):
        st.subheader("Quarantine by reason")
        if outcomes.quarantine_by_reason.empty:
            st.info("Nothing quarantined in these minutes.")
        else:
            show_table(outcomes.quarantine_by_reason, "reason", {"record_count": "{:,}".format})


def quality_totals(outcomes: queries.RecordOutcomes, minutes: int) -> None:
    """The identity over the newest minutes, and the outcomes minute by minute."""
    st.caption(
        f"Records read in the newest {minutes} minute(s) the stream counted (by Kafka "
        "timestamp), and what became of them. The daily DAG checks the same identity record "
        "by record over the whole lake."
    )
    columns = st.columns(5)
    for column, (label, name) in zip(
        columns,
        [
            ("Bronze records", "bronze_count"),
            ("Silver events", "silver_count"),
            ("Quarantined", "quarantine_count"),
            ("Late", "late_count"),
            ("Duplicates removed", "duplicate_count"),
        ],
        strict=True,
    ):
        column.metric(label, f"{outcomes.total(name):,}")
    equation = (
        f"{outcomes.total('bronze_count'):,} = {outcomes.total('silver_count'):,} + "
        f"{outcomes.total('quarantine_count'):,} + {outcomes.total('late_count'):,} + "
        f"{outcomes.total('duplicate_count'):,}"
    )
    with st.container(key="identity"):
        if outcomes.is_balanced:
            st.metric("Accounting identity", "holds")
            st.success(f"bronze = silver + quarantine + late + duplicates: {equation}")
        else:
            st.metric("Accounting identity", f"broken in {outcomes.broken_minute_count:,} min")
            st.warning(
                "bronze = silver + quarantine + late + duplicates does not hold: in "
                f"{outcomes.broken_minute_count:,} minute(s) more records came out than were "
                "read. Records were counted twice; see the record-level check "
                "(pipeline.lake.accounting)."
            )
    per_minute = outcomes.per_minute.melt(
        id_vars="window_start",
        value_vars=["silver_count", "quarantine_count", "late_count", "duplicate_count"],
        var_name="outcome",
        value_name="records",
    )
    st.bar_chart(per_minute, x="window_start", y="records", color="outcome")


def health_panel() -> None:
    with st.container(key="health"):
        st.subheader("Pipeline health")
        try:
            report = health.report(config)
        except StackError as error:
            st.error(f"health check failed: {error}")
            return
        if not report.is_stack_running:
            st.info(
                "Stack not running: no Kafka broker or Flink cluster of this checkout is up. "
                "Start it with `python jobs.py up` (or `make demo`)."
            )
            return
        if report.is_healthy:
            st.success("healthy")
        for problem in report.problems:
            st.error(problem)
        # Early warnings (pipeline.early_warning): trouble ahead, before the job falls behind.
        for warning in report.warnings:
            st.warning(warning)
        services = pd.DataFrame(
            [
                {
                    "service": row.name,
                    "state": "healthy"
                    if row.is_healthy
                    else ("unhealthy" if row.is_running else "stopped"),
                    "pid": "-" if row.pid is None else str(row.pid),
                    "detail": row.detail,
                }
                for row in report.services
            ]
        )
        st.table(services.set_index("service"))
        if report.jobs:
            jobs = pd.DataFrame(
                [
                    {
                        "job": job.job,
                        "state": job.state,
                        "restarts": shown(job.restarts),
                        "checkpoint age": shown(job.checkpoint_age_s, ".1f", " s"),
                        "in/s": shown(job.records_in_per_s, ",.0f"),
                        "out/s": shown(job.records_out_per_s, ",.0f"),
                        "watermark lag": shown(job.watermark_lag_s, ".1f", " s"),
                        "backpressure": shown(job.backpressure),
                        "kafka lag": shown(job.total_lag if job.kafka_lag else None, ","),
                    }
                    for job in report.jobs
                ]
            )
            st.table(jobs.set_index("job"))
        if report.taskmanagers:
            taskmanagers = pd.DataFrame(
                [
                    {
                        "taskmanager": row.taskmanager_id,
                        "heap": f"{row.heap_used_bytes / 1e6:,.0f} of "
                        f"{row.heap_max_bytes / 1e6:,.0f} MB",
                        "GC": shown(row.gc_ms_per_s, ".0f", " ms/s"),
                        "managed": f"{row.managed_used_bytes / 1e6:,.0f} of "
                        f"{row.managed_total_bytes / 1e6:,.0f} MB",
                        "RSS": shown(row.rss_bytes and row.rss_bytes / 1e6, ",.0f", " MB"),
                    }
                    for row in report.taskmanagers
                ]
            )
            st.table(taskmanagers.set_index("taskmanager"))
        if report.dedup_state:
            st.caption(report.dedup_state)


FUNNEL_COLUMNS = {
    "event_date": "day",
    "product_view_count": "views",
    "add_to_cart_count": "carts",
    "viewed_user_count": "viewers",
    "carted_user_count": "carters",
    "purchased_user_count": "buyers",
    "view_to_purchase_rate": "view → buy",
}


def marts_panel() -> None:
    with st.container(key="marts"):
        st.subheader("dbt marts")
        path = config.warehouse_path
        warehouse = queries.open_warehouse(path)
        if warehouse is None:
            if path.exists():
                st.info(f"`{path}` is busy (dbt is building it); shown again on the next refresh.")
            else:
                st.info(f"No dbt warehouse at `{path}` yet: run `cd dbt_project && dbt build`.")
            return
        try:
            sessions = queries.session_totals(warehouse)
            funnel = queries.funnel_by_date(warehouse)
            by_device = queries.sessions_by_device(warehouse)
        finally:
            warehouse.close()
        left, right = st.columns(2)
        with left, st.container(key="funnel"):
            st.markdown("**Funnel conversion** (funnel_daily)")
            if funnel.empty:
                st.info("funnel_daily is not built yet.")
            else:
                views, carts, purchases = st.columns(3)
                views.metric("Product views", f"{funnel['product_view_count'].sum():,}")
                carts.metric("Add-to-carts", f"{funnel['add_to_cart_count'].sum():,}")
                purchases.metric("Users who bought", f"{funnel['purchased_user_count'].sum():,}")
                funnel["event_date"] = funnel["event_date"].map("{:%Y-%m-%d}".format)
                funnel = funnel.rename(columns=FUNNEL_COLUMNS)[list(FUNNEL_COLUMNS.values())]
                show_table(funnel, "day", {"view → buy": rate})
        with right, st.container(key="sessions"):
            st.markdown("**Sessions** (sessions)")
            if sessions is None:
                st.info("sessions is not built yet.")
            else:
                count, converted, conversion = st.columns(3)
                count.metric("Sessions", f"{sessions.session_count:,}")
                converted.metric("Converted sessions", f"{sessions.converted_session_count:,}")
                conversion.metric("Session conversion", rate(sessions.conversion_rate))
                by_device = by_device.rename(
                    columns={
                        "session_count": "sessions",
                        "converted_session_count": "converted",
                        "conversion_rate": "conversion",
                    }
                )
                show_table(by_device, "device_type", {"conversion": rate})


@st.fragment(run_every=config.dashboard_refresh_seconds)
def panels() -> None:
    refreshed_at = datetime.now(UTC)
    st.caption(
        f"Lake `{config.lake_root}` (committed snapshots only) · "
        f"warehouse `{config.warehouse_path}` · refreshed {refreshed_at:%H:%M:%S} UTC, "
        f"every {config.dashboard_refresh_seconds} s"
    )
    resolution = resolution_picker()
    lake = queries.open_lake(config.lake_root)
    try:
        traffic_panels(lake, resolution)
        revenue_panels(lake, resolution)
        live_sessions_panel(lake)
        anomaly_panels(lake)
    finally:
        lake.close()
    quality_panels(config.lake_root)
    health_panel()
    marts_panel()


st.title("clickstream: live")
panels()
