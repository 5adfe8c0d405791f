"""The Flink SQL linter: the good corpus is clean, each broken case fails with the expected
finding, and each rule's edge cases behave; `jobs.py lint` prints `file:line:col RULE message`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import jobs
from sqlcheck.findings import RULES, Finding, format_findings
from sqlcheck.lake import canonical_type
from sqlcheck.lineage import column_lineage
from sqlcheck.lint import lint_paths
from sqlcheck.project import load_project

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "sql_corpus"
GOOD = CORPUS / "good"
BROKEN = CORPUS / "broken"

# The placeholder values the corpus is rendered with.
PARAMS = json.loads((ROOT / "tests" / "sql_corpus" / "params.json").read_text())


def located(findings: list[Finding], base: Path) -> list[tuple[str, int, int, str]]:
    """(path relative to base, line, col, rule) of each finding."""
    return [
        (Path(f.path).resolve().relative_to(base.resolve()).as_posix(), f.line, f.col, f.rule)
        for f in findings
    ]


# --- corpus --------------------------------------------------------------------------------


def test_good_corpus_lints_clean():
    assert lint_paths([GOOD], PARAMS, GOOD / "__sources.yml") == []


def test_good_corpus_lints_clean_without_dbt():
    assert lint_paths([GOOD], PARAMS, None) == []


def test_good_corpus_file_by_file_paths_are_the_same_as_the_folder():
    files = sorted(GOOD.rglob("*.sql"))
    assert lint_paths(files, PARAMS, GOOD / "__sources.yml") == []


BROKEN_CASES = {
    "syntax_error": [("views/parsed_events.sql", 6, 3, "FL001")],
    "missing_watermark": [("tables/raw_events.sql", 2, 1, "FL002")],
    "updating_sink": [("jobs/pipeline.sql", 10, 1, "FL004")],
    "unbounded_dedup": [("views/deduped_events.sql", 7, 5, "FL003")],
    "hardcoded_host": [("tables/raw_events.sql", 10, 3, "FL005")],
    "gold_dbt_mismatch": [
        ("__sources.yml", 16, 19, "FL006"),  # dbt column `events` the Flink table lacks
        ("tables/gold_events_per_minute.sql", 3, 3, "FL006"),  # window_start: DATE in dbt
        ("tables/gold_events_per_minute.sql", 5, 3, "FL006"),  # event_count missing in dbt
    ],
}


def test_every_broken_case_is_covered():
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(BROKEN_CASES)


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_broken_case_fails_with_the_expected_finding(case):
    base = BROKEN / case
    findings = lint_paths([base], PARAMS, base / "__sources.yml")
    assert located(findings, base) == BROKEN_CASES[case], format_findings(findings)


def test_broken_case_messages_say_what_is_wrong():
    def messages(case: str) -> str:
        base = BROKEN / case
        return format_findings(lint_paths([base], PARAMS, base / "__sources.yml"))

    assert "Invalid expression / Unexpected token" in messages("syntax_error")
    assert "raw_events declares no WATERMARK" in messages("missing_watermark")
    updating = messages("updating_sink")
    assert "user_event_counts" in updating and "GROUP BY user_id" in updating
    assert "does not SET 'table.exec.state.ttl'" in messages("unbounded_dedup")
    assert "'properties.bootstrap.servers' = 'localhost:9092'" in messages("hardcoded_host")
    gold = messages("gold_dbt_mismatch")
    assert "dbt declares column events" in gold
    assert "gold_events_per_minute.window_start is TIMESTAMP(3) in the DDL" in gold
    assert "column gold_events_per_minute.event_count is missing" in gold


def test_gold_rule_is_skipped_without_a_dbt_file():
    base = BROKEN / "gold_dbt_mismatch"
    assert lint_paths([base], PARAMS, None) == []


# --- FL006 over every lake table, not only gold ------------------------------------------------


@pytest.fixture
def good_copy(tmp_path) -> Path:
    shutil.copytree(GOOD, tmp_path / "good")
    return tmp_path / "good"


def contract_findings(base: Path) -> list[str]:
    """FL006 findings of a corpus copy, `path:line:col message` relative to it."""
    return [
        f"{Path(f.path).resolve().relative_to(base.resolve())}:{f.line}:{f.col} {f.message}"
        for f in lint_paths([base], PARAMS, base / "__sources.yml")
        if f.rule == "FL006"
    ]


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_silver_table_is_held_to_the_dbt_sources_too(good_copy):
    sources = good_copy / "__sources.yml"
    edit_file(sources, "lake_path: silver/order_items", "lake_path: silver/items")
    edit_file(
        sources,
        "          - name: unit_price\n            data_type: DECIMAL(12, 2)\n"
        "          - name: line_total\n            data_type: DECIMAL(12, 2)\n",
        "          - name: line_total\n            data_type: DECIMAL(12, 2)\n"
        "          - name: unit_price\n            data_type: DECIMAL(12, 2)\n",
    )
    edit_file(sources, "            description: The UTC date of `ingested_at`.\n", "")
    ddl = good_copy / "tables" / "silver_order_items.sql"
    assert contract_findings(good_copy) == [
        "__sources.yml:68:19 the description of quarantine_events.dt does not say it is the date"
        " of `ingested_at` (the column its INSERT computes it from)",
        "__sources.yml:102:15 silver_order_items has lake_path silver/items, the DDL's folder is"
        f" silver/order_items ({ddl}:2)",
        "__sources.yml:117:19 silver_order_items.line_total is column 6, the DDL has unit_price"
        " there",
    ]


def test_an_undeclared_lake_table_and_a_source_without_one_are_named(good_copy):
    sources = good_copy / "__sources.yml"
    edit_file(sources, "      - name: silver_order_items\n", "      - name: silver_line_items\n")
    assert contract_findings(good_copy) == [
        "__sources.yml:103:15 dbt source 'lake' declares silver_line_items, which is not a lake"
        " table (an iceberg table of tables/)",
        f"tables/silver_order_items.sql:2:1 lake table silver_order_items is not declared in dbt"
        f" source 'lake' ({sources})",
    ]


# --- small pipelines per rule ----------------------------------------------------------------

KAFKA_SOURCE = """CREATE TABLE src (
  id STRING,
  user_id STRING,
  amount DECIMAL(12, 2),
  ts TIMESTAMP(3),
  proc_time AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = '${topic}',
  'properties.bootstrap.servers' = '${servers}',
  'format' = 'json'
);
"""

SINK = """CREATE TABLE sink (
  k STRING,
  v BIGINT
) WITH (
  'connector' = 'filesystem',
  'path' = '${lake_root}/sink',
  'format' = 'parquet'
);
"""

SMALL_PARAMS = {"topic": "t", "servers": "b:9092", "lake_root": "/lake", "ttl": "1 h"}


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in {"tables/src.sql": KAFKA_SOURCE, "tables/sink.sql": SINK, **files}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def job(*inserts: str, settings: str = "") -> str:
    body = "".join(f"{insert.strip().rstrip(';')};\n" for insert in inserts)
    return f"{settings}EXECUTE STATEMENT SET\nBEGIN\n{body}END;\n"


def rules(tmp_path: Path, files: dict[str, str], params=SMALL_PARAMS) -> list[tuple]:
    base = project(tmp_path, files)
    return located(lint_paths([base], params, None), base)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT user_id AS k, COUNT(*) AS v FROM src GROUP BY user_id",
        "SELECT 'all' AS k, COUNT(*) AS v FROM src",
        "SELECT DISTINCT user_id AS k, 1 AS v FROM src",
        "SELECT k, v FROM (SELECT user_id AS k, 1 AS v, ROW_NUMBER() OVER (PARTITION BY user_id"
        " ORDER BY amount DESC) AS rn FROM src) WHERE rn <= 3",
        "SELECT k, v FROM (SELECT user_id AS k, 1 AS v, ROW_NUMBER() OVER (PARTITION BY user_id"
        " ORDER BY proc_time DESC) AS rn FROM src) WHERE rn = 1",
        "SELECT k, v FROM (SELECT user_id AS k, 1 AS v, ROW_NUMBER() OVER (PARTITION BY user_id"
        " ORDER BY proc_time ASC) AS rn FROM src) WHERE rn = 2",
        "SELECT a.user_id AS k, 1 AS v FROM src AS a LEFT JOIN src AS b ON a.id = b.id",
        "SELECT a.user_id AS k, 1 AS v FROM src AS a FULL OUTER JOIN src AS b ON a.id = b.id",
        "SELECT window_start AS k, COUNT(*) AS v"
        " FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start",
    ],
    ids=[
        "group-by",
        "global-agg",
        "distinct",
        "top-n",
        "keep-last-row",
        "second-row",
        "left-join",
        "full-join",
        "tvf-missing-window-end",
    ],
)
def test_updating_queries_into_filesystem_sinks_are_flagged(tmp_path, query):
    found = rules(
        tmp_path,
        {
            "jobs/j.sql": job(
                f"INSERT INTO sink\n{query}", settings="SET 'table.exec.state.ttl' = '${ttl}';\n"
            )
        },
    )
    assert found == [("jobs/j.sql", 4, 1, "FL004")]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT user_id AS k, 1 AS v FROM src",
        "SELECT CAST(window_start AS STRING) AS k, COUNT(*) AS v"
        " FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' MINUTE))"
        " GROUP BY window_start, window_end",
        "SELECT user_id AS k, COUNT(*) AS v"
        " FROM TABLE(CUMULATE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR))"
        " GROUP BY window_start, window_end, user_id",
        "SELECT k, v FROM (SELECT user_id AS k, 1 AS v, ROW_NUMBER() OVER (PARTITION BY id"
        " ORDER BY proc_time ASC) AS rn FROM src) WHERE rn = 1",
        "SELECT a.user_id AS k, 1 AS v FROM src AS a LEFT JOIN src AS b ON a.id = b.id"
        " AND b.ts BETWEEN a.ts - INTERVAL '1' HOUR AND a.ts",
        "SELECT user_id AS k, SUM(amount) OVER (PARTITION BY user_id ORDER BY ts) AS v FROM src",
        "SELECT COUNT(*) AS k, 1 AS v FROM src GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
    ],
    ids=[
        "projection",
        "tumble",
        "cumulate",
        "proctime-dedup",
        "interval-join",
        "over-aggregate",
        "legacy-group-window",
    ],
)
def test_append_only_queries_into_filesystem_sinks_pass(tmp_path, query):
    found = rules(
        tmp_path,
        {
            "jobs/j.sql": job(
                f"INSERT INTO sink\n{query}", settings="SET 'table.exec.state.ttl' = '${ttl}';\n"
            )
        },
    )
    assert found == []


def test_updating_view_is_followed_to_the_sink(tmp_path):
    found = rules(
        tmp_path,
        {
            "views/per_user.sql": "CREATE TEMPORARY VIEW per_user AS\n"
            "SELECT user_id AS k, COUNT(*) AS v FROM src GROUP BY user_id;\n",
            "views/renamed.sql": "CREATE TEMPORARY VIEW renamed AS SELECT k, v FROM per_user;\n",
            "jobs/j.sql": job("INSERT INTO sink SELECT k, v FROM renamed"),
        },
    )
    assert found == [("jobs/j.sql", 3, 1, "FL004")]


def test_updating_query_into_a_non_filesystem_sink_is_fine(tmp_path):
    upsert = SINK.replace("'connector' = 'filesystem'", "'connector' = 'upsert-kafka'").replace(
        "'path' = '${lake_root}/sink'", "'topic' = '${topic}'"
    )
    found = rules(
        tmp_path,
        {
            "tables/sink.sql": upsert,
            "jobs/j.sql": job(
                "INSERT INTO sink SELECT user_id, COUNT(*) FROM src GROUP BY user_id"
            ),
        },
    )
    assert found == []


DEDUP_VIEW = """-- dedup
CREATE TEMPORARY VIEW first_seen AS
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY proc_time) AS rn FROM src
) WHERE rn = 1;
"""


@pytest.mark.parametrize(
    ("settings", "flagged"),
    [
        ("", True),
        ("SET 'table.exec.state.ttl' = '${ttl}';\n", False),
        ("SET 'table.exec.state.ttl' = '36 h';\n", False),
        ("SET 'table.exec.state.ttl' = '0';\n", True),
        ("SET 'table.exec.state.ttl' = '${zero}';\n", True),
        ("SET 'pipeline.name' = 'x';\n", True),
    ],
)
def test_dedup_needs_a_nonzero_ttl_in_the_job(tmp_path, settings, flagged):
    found = rules(
        tmp_path,
        {
            "views/first_seen.sql": DEDUP_VIEW,
            "views/through.sql": "CREATE TEMPORARY VIEW through AS SELECT * FROM first_seen;\n",
            "jobs/j.sql": job("INSERT INTO sink SELECT id, 1 FROM through", settings=settings),
        },
        params={**SMALL_PARAMS, "zero": "0 ms"},
    )
    assert found == ([("views/first_seen.sql", 4, 13, "FL003")] if flagged else [])


def test_dedup_in_the_job_itself_and_unused_dedup_views(tmp_path):
    inline = (
        "INSERT INTO sink SELECT id, 1 FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id"
        " ORDER BY proc_time) AS rn FROM src) WHERE rn = 1"
    )
    found = rules(
        tmp_path,
        {
            "views/first_seen.sql": DEDUP_VIEW,  # read by no job: not deployed, not flagged
            "jobs/j.sql": job(inline),
        },
    )
    assert found == [("jobs/j.sql", 3, 47, "FL003")]


def test_kafka_source_without_watermark_but_kafka_sink_is_fine(tmp_path):
    no_watermark = KAFKA_SOURCE.replace(",\n  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND", "")
    kafka_sink = no_watermark.replace("CREATE TABLE src", "CREATE TABLE out")
    found = rules(
        tmp_path,
        {
            "tables/src.sql": no_watermark,
            "tables/out.sql": kafka_sink,
            "jobs/j.sql": job("INSERT INTO out SELECT * FROM src"),
        },
    )
    assert found == [("tables/src.sql", 1, 1, "FL002")]


@pytest.mark.parametrize(
    ("option", "flagged"),
    [
        ("'path' = '/tmp/x'", True),
        ("'path' = 's3://bucket/silver'", True),
        ("'topic' = 'events'", True),
        ("'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092'", True),
        ("'scan.startup.mode' = 'earliest-offset'", False),
        ("'scan.startup.specific-offsets' = 'partition:0,offset:42'", False),
        ("'scan.startup.bootstrap' = 'http://registry:8081'", True),
        ("'schema-registry.url' = 'http://localhost:8081'", True),
        ("'path' = '${lake_root}/x'", False),
        ("'value.format' = 'json'", False),
    ],
)
def test_connector_options_come_from_config(tmp_path, option, flagged):
    table = f"CREATE TABLE extra (a STRING) WITH (\n  'connector' = 'filesystem',\n  {option}\n);\n"
    found = rules(tmp_path, {"tables/extra.sql": table})
    assert found == ([("tables/extra.sql", 3, 3, "FL005")] if flagged else [])


def test_unknown_placeholders_and_values_that_break_the_sql(tmp_path):
    for written in ("${topik}", "${Topic}"):
        source = KAFKA_SOURCE.replace("${topic}", written)
        assert rules(tmp_path, {"tables/src.sql": source}) == [("tables/src.sql", 10, 14, "FL007")]
    # inside a string literal a value's quotes are doubled: the literal holds the value
    quoted = load_project(project(tmp_path, {}), {**SMALL_PARAMS, "topic": "it's"})
    assert "'topic' = 'it''s'" in quoted.objects["src"].statement.sql
    assert lint_paths([tmp_path], {**SMALL_PARAMS, "topic": "it's"}) == []
    # a value that breaks the SQL once substituted: reported at the line that holds it
    view = "CREATE TEMPORARY VIEW v AS\nSELECT id FROM src\nWHERE amount > ${limit};\n"
    base = project(tmp_path, {"views/v.sql": view})
    assert rules(tmp_path, {}, params={**SMALL_PARAMS, "limit": "10"}) == []
    found = lint_paths([base], {**SMALL_PARAMS, "limit": "1 1"})
    assert [(f.line, f.rule) for f in found] == [(3, "FL001")]
    assert found[0].message.endswith("(after rendering the placeholders on this line)")


def test_layout_is_an_error(tmp_path):
    found = rules(
        tmp_path, {"tables/two.sql": "CREATE TABLE two (x INT);\nCREATE TABLE b (x INT);\n"}
    )
    assert found == [("tables/two.sql", 2, 1, "FL008")]


def test_reading_an_undefined_relation_is_an_error(tmp_path):
    found = rules(tmp_path, {"jobs/j.sql": job("INSERT INTO sink SELECT k, v FROM nowhere")})
    assert found == [("jobs/j.sql", 3, 35, "FL009")]


def test_findings_are_limited_to_the_files_asked_for(tmp_path):
    base = project(
        tmp_path,
        {
            "tables/src.sql": KAFKA_SOURCE.replace("${topic}", "${topik}"),
            "tables/extra.sql": "CREATE TABLE extra (a STRING) WITH ('path' = '/tmp/x');\n",
        },
    )
    everything = located(lint_paths([base], SMALL_PARAMS), base)
    assert [f[0] for f in everything] == ["tables/extra.sql", "tables/src.sql"]
    only = located(lint_paths([base / "tables" / "extra.sql"], SMALL_PARAMS), base)
    assert only == [everything[0]]


@pytest.mark.parametrize(
    ("flink", "dbt"),
    [
        ("STRING", "string"),
        ("INT", "INTEGER"),
        ("DECIMAL(12, 2)", "decimal( 12 ,2 )"),
        ("TIMESTAMP(3)", "timestamp(3)"),
        ("TIMESTAMP_LTZ(3)", "Timestamp_Ltz(3)"),
    ],
)
def test_a_dbt_data_type_is_the_flink_type_in_any_case_and_spacing(flink, dbt):
    assert canonical_type(flink) == canonical_type(dbt)


@pytest.mark.parametrize(
    ("flink", "dbt"),
    [
        ("BIGINT", "INT"),
        ("DECIMAL(12, 2)", "DECIMAL(10, 2)"),
        ("TIMESTAMP(3)", "TIMESTAMP"),
        ("TIMESTAMP(3)", "DATE"),
        ("STRING", "VARCHAR"),
    ],
)
def test_a_dbt_data_type_of_another_type_or_precision_differs(flink, dbt):
    assert canonical_type(flink) != canonical_type(dbt)


# --- CLI: jobs.py lint ------------------------------------------------------------------------


def test_finding_format():
    finding = Finding("flink_sql/jobs/a.sql", 3, 7, "FL004", "bad")
    assert str(finding) == "flink_sql/jobs/a.sql:3:7 FL004 bad"
    assert format_findings([finding, finding]) == f"{finding}\n{finding}"
    assert set(RULES) == {f"FL00{n}" for n in range(1, 10)}


def test_jobs_py_lint_prints_findings_and_exits_1(tmp_path):
    # placeholders the config renders, so the only finding is the hard-coded host
    source = KAFKA_SOURCE.replace("${topic}", "${kafka_topic}").replace(
        "${servers}", "${kafka_bootstrap_servers}"
    )
    sink = SINK.replace("'${lake_root}/sink'", "'${lake_root}/sink'")
    base = project(tmp_path, {"tables/src.sql": source, "tables/sink.sql": sink})
    runner = CliRunner()
    clean = runner.invoke(jobs.app, ["lint", str(base)])
    assert clean.exit_code == 0, clean.output
    assert "no errors" in clean.output

    (base / "tables" / "src.sql").write_text(
        source.replace("'${kafka_bootstrap_servers}'", "'localhost:9092'")
    )
    broken = runner.invoke(jobs.app, ["lint", str(base)])
    assert broken.exit_code == 1
    assert broken.output.strip().splitlines() == [
        f"{base / 'tables' / 'src.sql'}:11:3 FL005 option 'properties.bootstrap.servers'"
        " = 'localhost:9092' must come from config: use a ${placeholder} filled from the"
        " deployment config"
    ]
    missing = runner.invoke(jobs.app, ["lint", str(tmp_path / "missing")])
    assert missing.exit_code == 1
    assert "no such file or folder" in missing.output


# --- lineage (sqlcheck.lineage) ----------------------------------------------------------------


def test_lineage_follows_views_unnest_and_window_tvfs():
    good = load_project(GOOD, PARAMS)
    revenue = column_lineage("gold_revenue_per_window.revenue", good)
    assert revenue.expression == "CAST(SUM(order_items.line_total) AS DECIMAL(12, 2))"
    assert {leaf.name for leaf in revenue.leaves()} == {"raw_orders.items"}

    price = column_lineage("silver_events.price", good)
    rendered = price.render()
    assert rendered.splitlines()[0] == "silver_events.price  <- deduped_events.price"
    assert "JSON_VALUE(raw_events.raw_payload, '$.price'" in rendered
    assert [leaf.name for leaf in price.leaves()] == ["raw_events.raw_payload"]


def test_lineage_maps_named_insert_columns_by_name(tmp_path):
    base = project(
        tmp_path,
        {"jobs/j.sql": job("INSERT INTO sink (v, k) SELECT COUNT(*) AS n, user_id FROM src")},
    )
    counted = column_lineage("sink.v", load_project(base, SMALL_PARAMS))
    assert counted.render().splitlines()[0] == "sink.v  <- COUNT(*)"
    with pytest.raises(KeyError, match="names no nope"):
        column_lineage("sink.nope", load_project(base, SMALL_PARAMS))


def test_lineage_errors(tmp_path):
    good = load_project(GOOD, PARAMS)
    with pytest.raises(KeyError, match="no INSERT INTO nope"):
        column_lineage("nope.x", good)
    with pytest.raises(KeyError, match="has no column"):
        column_lineage("silver_events.nope", good)
    with pytest.raises(ValueError, match=r"table\.column"):
        column_lineage("silver_events", good)
    broken = load_project(BROKEN / "syntax_error", PARAMS)
    with pytest.raises(ValueError, match=r"parsed_events\.sql:6:3 FL001"):
        column_lineage("silver_events.price", broken)
