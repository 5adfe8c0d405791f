"""The Flink SQL dialect: every construct we use parses into the expected tree and regenerates
as Flink SQL that parses back to an equal tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sqlcheck.dialect import (
    Descriptor,
    FlinkSyntaxError,
    JSONExistsFlink,
    JSONQueryFlink,
    MetadataColumnConstraint,
    StatementSet,
    TableArgument,
    TemplateParameter,
    WindowTVF,
    generate,
    parse_one,
    parse_tokens,
    split_tokens,
    tokenize,
)
from sqlcheck.placeholders import line_col
from sqlcheck.project import load_project
from stack.config import load_config

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "sql_corpus" / "good"
# The placeholder values the corpus is rendered with.
GOOD_PARAMS = json.loads((ROOT / "tests" / "sql_corpus" / "params.json").read_text())


def parse_statements(sql: str) -> list[tuple[int, exp.Expr, str]]:
    """(line, tree, text) of each statement in ``sql``, split and parsed as the project does."""
    return [
        (
            line_col(sql, chunk[0].start)[0],
            parse_tokens(chunk, sql),
            sql[chunk[0].start : chunk[-1].end + 1],
        )
        for chunk in split_tokens(tokenize(sql))
    ]


def assert_round_trip(tree: exp.Expr) -> str:
    """Regenerate (flat and pretty) and reparse; both must give an equal tree."""
    flat = generate(tree)
    assert parse_one(flat) == tree, flat
    pretty = generate(tree, pretty=True)
    assert parse_one(pretty) == tree, pretty
    return flat


def project_statements(root: Path, params: dict[str, str]) -> list[pytest.param]:
    project = load_project(root, params)
    assert project.problems == []
    return [
        pytest.param(s, id=f"{s.file.path.relative_to(root).as_posix()}:{s.line}")
        for s in project.statements
    ]


@pytest.mark.parametrize("statement", project_statements(GOOD, GOOD_PARAMS))
def test_good_corpus_round_trips(statement):
    assert_round_trip(statement.tree)


def test_good_corpus_has_the_expected_statement_kinds():
    kinds = {
        file.path.relative_to(GOOD).as_posix(): [type(s.tree).__name__ for s in file.statements]
        for file in load_project(GOOD, GOOD_PARAMS).files
    }
    assert kinds["jobs/events_pipeline.sql"] == ["Set", "Set", "Set", "StatementSet"]
    assert kinds["views/deduped_events.sql"] == ["Create"]
    assert all(k == ["Create"] for name, k in kinds.items() if not name.startswith("jobs/"))


CONFIG = load_config()


@pytest.mark.parametrize(
    "statement", project_statements(CONFIG.sql_dir, CONFIG.sql_params("dialect-test"))
)
def test_flink_sql_files_parse_and_round_trip(statement):
    assert not isinstance(statement.tree, exp.Command), statement.sql
    assert_round_trip(statement.tree)


# --- DDL ---------------------------------------------------------------------------------


def test_nested_types_and_precisions():
    tree = parse_one(
        "CREATE TABLE t (a ROW<x STRING, y INT>, b ARRAY<ROW<p STRING, q DECIMAL(12, 2)>>,"
        " c MAP<STRING, BIGINT>, d DECIMAL(12, 2), e TIMESTAMP(3), f TIMESTAMP_LTZ(3),"
        " g ROW(x STRING))"
    )
    kinds = {c.name: c.args["kind"] for c in tree.find_all(exp.ColumnDef) if c.parent is tree.this}
    assert kinds["a"].is_type(exp.DType.STRUCT)
    assert kinds["b"].is_type(exp.DType.ARRAY)
    assert kinds["c"].is_type(exp.DType.MAP)
    assert kinds["f"].is_type(exp.DType.TIMESTAMPLTZ)
    assert generate(tree) == (
        "CREATE TABLE t (a ROW<x STRING, y INT>, b ARRAY<ROW<p STRING, q DECIMAL(12, 2)>>,"
        " c MAP<STRING, BIGINT>, d DECIMAL(12, 2), e TIMESTAMP(3), f TIMESTAMP_LTZ(3),"
        " g ROW<x STRING>)"
    )
    assert_round_trip(tree)


def test_computed_metadata_watermark_primary_key():
    tree = parse_one(
        """CREATE TABLE t (
          payload STRING,
          kafka_partition INT METADATA FROM 'partition' VIRTUAL,
          kafka_timestamp TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
          headers MAP<STRING, BYTES> METADATA,
          event_at AS COALESCE(TO_TIMESTAMP(payload), TIMESTAMP '1970-01-01 00:00:00'),
          proc_time AS PROCTIME(),
          WATERMARK FOR event_at AS event_at - INTERVAL '5' SECOND,
          PRIMARY KEY (payload) NOT ENFORCED
        )"""
    )
    metadata = {
        m.parent.parent.name: (
            m.args.get("this") and m.args["this"].name,
            bool(m.args.get("virtual")),
        )
        for m in tree.find_all(MetadataColumnConstraint)
    }
    assert metadata == {
        "kafka_partition": ("partition", True),
        "kafka_timestamp": ("timestamp", False),
        "headers": (None, False),
    }
    computed = {c.parent.parent.name for c in tree.find_all(exp.ComputedColumnConstraint)}
    assert computed == {"event_at", "proc_time"}
    watermark = tree.find(exp.WatermarkColumnConstraint)
    assert watermark.this.name == "event_at"
    assert isinstance(watermark.expression, exp.Sub)
    assert watermark.expression.expression.args["unit"].name == "SECOND"
    assert tree.find(exp.PrimaryKey) is not None
    sql = assert_round_trip(tree)
    assert "kafka_partition INT METADATA FROM 'partition' VIRTUAL" in sql
    assert "WATERMARK FOR event_at AS event_at - INTERVAL '5' SECOND" in sql
    assert "PRIMARY KEY (payload) NOT ENFORCED" in sql


def test_timestamp_literal_keeps_its_precision():
    # TIMESTAMP '...' is TIMESTAMP(0); CAST(... AS TIMESTAMP) would be TIMESTAMP(6) in Flink
    tree = parse_one("SELECT TIMESTAMP '1970-01-01 00:00:00', TIMESTAMP '2020-01-01 00:00:00.123'")
    casts = list(tree.find_all(exp.Cast, bfs=False))
    assert [c.to.sql(dialect="flink") for c in casts] == ["TIMESTAMP(0)", "TIMESTAMP(3)"]
    assert generate(tree) == (
        "SELECT TIMESTAMP '1970-01-01 00:00:00', TIMESTAMP '2020-01-01 00:00:00.123'"
    )
    plain = parse_one("SELECT CAST('1970-01-01 00:00:00' AS TIMESTAMP)")
    assert generate(plain) == "SELECT CAST('1970-01-01 00:00:00' AS TIMESTAMP)"


def test_with_options_partitioned_by_and_comment():
    tree = parse_one(
        "CREATE TABLE s (a STRING COMMENT 'col', dt STRING) COMMENT 'tbl' PARTITIONED BY (dt)"
        " WITH ('connector' = 'filesystem', 'path' = '${lake_root}/x', 'format' = 'parquet')"
    )
    options = {
        p.this.name: p.args["value"].name
        for p in tree.args["properties"].expressions
        if type(p) is exp.Property
    }
    assert options == {
        "connector": "filesystem",
        "path": "${lake_root}/x",
        "format": "parquet",
    }
    assert tree.find(exp.PartitionedByProperty) is not None
    assert generate(tree) == (
        "CREATE TABLE s (a STRING COMMENT 'col', dt STRING) COMMENT 'tbl' PARTITIONED BY (dt)"
        " WITH ('connector' = 'filesystem', 'path' = '${lake_root}/x', 'format' = 'parquet')"
    )


def test_create_temporary_view_and_backquoted_identifiers():
    tree = parse_one("CREATE TEMPORARY VIEW `v` AS SELECT `timestamp`, `value` AS v2 FROM `t`")
    assert tree.kind == "VIEW"
    assert tree.args["properties"].find(exp.TemporaryProperty) is not None
    assert [c.name for c in tree.expression.find_all(exp.Column)] == ["timestamp", "value"]
    assert generate(tree) == (
        "CREATE TEMPORARY VIEW `v` AS SELECT `timestamp`, `value` AS v2 FROM `t`"
    )


# --- queries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "kind", "table", "time_col"),
    [
        (
            "TUMBLE(TABLE events_on_time, DESCRIPTOR(event_at), INTERVAL '1' MINUTE)",
            "TUMBLE",
            "events_on_time",
            "event_at",
        ),
        (
            "HOP(TABLE e, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)",
            "HOP",
            "e",
            "ts",
        ),
        (
            "CUMULATE(TABLE e, DESCRIPTOR(ts), INTERVAL '2' MINUTE, INTERVAL '10' MINUTE)",
            "CUMULATE",
            "e",
            "ts",
        ),
        (
            "CUMULATE(DATA => TABLE e, TIMECOL => DESCRIPTOR(ts), STEP => INTERVAL '2' MINUTES,"
            " SIZE => INTERVAL '10' MINUTES)",
            "CUMULATE",
            "e",
            "ts",
        ),
        (
            "SESSION(TABLE e PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '5' MINUTE)",
            "SESSION",
            "e",
            "ts",
        ),
    ],
)
def test_window_tvfs(sql, kind, table, time_col):
    tree = parse_one(
        f"SELECT window_start, window_end, COUNT(*) AS n FROM TABLE({sql})"
        " GROUP BY window_start, window_end"
    )
    tvf = tree.find(WindowTVF)
    assert tvf is not None
    assert tvf.kind == kind
    assert tvf.table.name == table
    assert [c.name for c in tvf.time_columns] == [time_col]
    assert tree.find(TableArgument) is not None and tree.find(Descriptor) is not None
    assert f"FROM TABLE({sql})" in assert_round_trip(tree)


def test_legacy_group_window_is_a_plain_call():
    tree = parse_one("SELECT COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)")
    assert tree.find(WindowTVF) is None
    assert tree.args["group"].expressions[0].name.upper() == "TUMBLE"
    assert_round_trip(tree)


def test_row_number_dedup_pattern():
    tree = parse_one(
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY proc_time ASC)"
        " AS row_num FROM t) WHERE row_num = 1"
    )
    window = tree.find(exp.Window)
    assert isinstance(window.this, exp.RowNumber)
    assert [c.name for c in window.args["partition_by"]] == ["event_id"]
    assert tree.args["where"].this.sql() == "row_num = 1"
    assert_round_trip(tree)


def test_json_functions():
    tree = parse_one(
        "SELECT JSON_VALUE(p, '$.price' RETURNING DECIMAL(12, 2) NULL ON ERROR) AS price,"
        " JSON_VALUE(p, '$.q' RETURNING INT DEFAULT 0 ON EMPTY DEFAULT -1 ON ERROR) AS q,"
        " JSON_QUERY(p, '$.items') AS items,"
        " JSON_QUERY(p, '$.a' WITH CONDITIONAL ARRAY WRAPPER EMPTY ARRAY ON EMPTY NULL ON ERROR),"
        " p IS JSON AS ok, p IS NOT JSON OBJECT AS not_obj,"
        " JSON_EXISTS(p, '$.a') AS has_a, JSON_EXISTS(p, '$.b' FALSE ON ERROR) AS has_b"
        " FROM t"
    )
    values = list(tree.find_all(exp.JSONValue, bfs=False))
    assert values[0].args["returning"].sql(dialect="flink") == "DECIMAL(12, 2)"
    assert values[0].args["on_condition"].args["error"] == "NULL ON ERROR"
    assert values[1].args["on_condition"].args["empty"].sql() == "0"
    assert values[1].args["on_condition"].args["error"].sql() == "-1"
    queries = list(tree.find_all(JSONQueryFlink, bfs=False))
    assert queries[1].args["wrapper"] == "WITH CONDITIONAL ARRAY WRAPPER"
    assert queries[1].args["on_empty"] == "EMPTY ARRAY"
    assert [e.args.get("on_error") for e in tree.find_all(JSONExistsFlink, bfs=False)] == [
        None,
        "FALSE",
    ]
    assert generate(tree) == (
        "SELECT JSON_VALUE(p, '$.price' RETURNING DECIMAL(12, 2) NULL ON ERROR) AS price,"
        " JSON_VALUE(p, '$.q' RETURNING INT DEFAULT 0 ON EMPTY DEFAULT -1 ON ERROR) AS q,"
        " JSON_QUERY(p, '$.items') AS items,"
        " JSON_QUERY(p, '$.a' WITH CONDITIONAL ARRAY WRAPPER EMPTY ARRAY ON EMPTY NULL ON ERROR),"
        " p IS JSON AS ok, p IS NOT JSON OBJECT AS not_obj,"
        " JSON_EXISTS(p, '$.a') AS has_a, JSON_EXISTS(p, '$.b' FALSE ON ERROR) AS has_b"
        " FROM t"
    )
    assert_round_trip(tree)


def test_cross_join_unnest_with_column_aliases():
    tree = parse_one(
        "SELECT o.order_id, item.product_id FROM orders AS o"
        " CROSS JOIN UNNEST(o.items) AS item (product_id, quantity)"
    )
    unnest = tree.find(exp.Unnest)
    assert unnest.args["alias"].name == "item"
    assert [c.name for c in unnest.args["alias"].columns] == ["product_id", "quantity"]
    assert_round_trip(tree)


@pytest.mark.parametrize(
    "expression",
    [
        "CAST(x AS STRING)",
        "DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm')",
        "REGEXP_EXTRACT(u, '^https?://([^/]+)', 1)",
        "PARSE_URL(u, 'HOST')",
        "TO_TIMESTAMP(s, 'yyyy-MM-dd''T''HH:mm:ss')",
        "TIMESTAMPDIFF(SECOND, a, b)",
        "TIMESTAMPADD(DAY, 1, ts)",
        "PROCTIME()",
        "CURRENT_WATERMARK(event_at)",
        "IF(a > 1, 'x', 'y')",
        "POSITION('a' IN b)",
        "TRIM(BOTH ' ' FROM a)",
        "ARRAY[1, 2]",
        "ROW(a, b)",
        "CURRENT_TIMESTAMP",
        "APPROX_COUNT_DISTINCT(x)",
        "a NOT IN (1, 2)",
        "a IS NOT NULL",
        "COUNT(DISTINCT a)",
        "EXTRACT(HOUR FROM ts)",
        "FLOOR(ts TO MINUTE)",
        "TO_TIMESTAMP_LTZ(x, 3)",
        "LOG10(x)",
        "JSON_OBJECT(KEY 'a' VALUE b)",
        "${not_rendered}",
    ],
)
def test_functions_regenerate_verbatim(expression):
    tree = parse_one(f"SELECT {expression} FROM t")
    assert generate(tree) == f"SELECT {expression} FROM t"
    assert_round_trip(tree)


def test_timestampdiff_keeps_the_unit_and_argument_order():
    call = parse_one("SELECT TIMESTAMPDIFF(MINUTE, a, b) FROM t").expressions[0]
    assert [e.sql() for e in call.expressions] == ["MINUTE", "a", "b"]


def test_template_parameter_outside_strings():
    tree = parse_one("SELECT x FROM t WHERE n > ${min_count}")
    assert tree.find(TemplateParameter).this.name == "min_count"


def test_temporal_join_and_table_hints():
    tree = parse_one(
        "SELECT * FROM orders /*+ OPTIONS('scan.startup.mode'='earliest-offset') */ AS o"
        " LEFT JOIN rates FOR SYSTEM_TIME AS OF o.proc_time AS r ON o.currency = r.currency"
    )
    assert generate(tree) == (
        "SELECT * FROM orders /*+ OPTIONS('scan.startup.mode'='earliest-offset') */ AS o"
        " LEFT JOIN rates FOR SYSTEM_TIME AS OF o.proc_time AS r ON o.currency = r.currency"
    )
    assert_round_trip(tree)


# --- statements and files ------------------------------------------------------------------


def test_set_statement():
    tree = parse_one("SET 'table.exec.state.ttl' = '${dedup_state_ttl}'")
    assert isinstance(tree, exp.Set)
    assignment = tree.expressions[0].this
    assert (assignment.this.name, assignment.expression.name) == (
        "table.exec.state.ttl",
        "${dedup_state_ttl}",
    )
    assert generate(tree) == "SET 'table.exec.state.ttl' = '${dedup_state_ttl}'"


def test_statement_set_keeps_inner_statements_and_case_end():
    sql = """SET 'pipeline.name' = 'p';
-- the set
EXECUTE STATEMENT SET
BEGIN
INSERT INTO a SELECT CASE WHEN x > 0 THEN 'pos' END AS s FROM b;
-- second
INSERT INTO c SELECT * FROM d;
END;
SET 'x' = 'y';
"""
    statements = parse_statements(sql)
    assert [type(tree).__name__ for _, tree, _ in statements] == ["Set", "StatementSet", "Set"]
    assert [line for line, _, _ in statements] == [1, 3, 9]
    statement_set = statements[1][1]
    assert isinstance(statement_set, StatementSet)
    assert [i.this.name for i in statement_set.expressions] == ["a", "c"]
    assert generate(statement_set) == (
        "/* the set */ EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT CASE WHEN x > 0 THEN 'pos' END AS s"
        " FROM b; /* second */ INSERT INTO c SELECT * FROM d; END"
    )
    assert_round_trip(statement_set)
    assert statements[1][2].startswith("EXECUTE STATEMENT SET") and statements[1][2].endswith("END")


def test_dialect_is_registered_with_sqlglot():
    tree = sqlglot.parse_one("SELECT CAST(a AS STRING) FROM `t`", read="flink")
    assert tree.sql(dialect="flink") == "SELECT CAST(a AS STRING) FROM `t`"
    assert tree.sql(dialect="duckdb") == 'SELECT CAST(a AS TEXT) FROM "t"'


@pytest.mark.parametrize(
    ("sql", "line", "col"),
    [
        ("SELECT a\nFROM t\nWHERE a = = 1;", 3, 11),
        ("SET 'a' = 'b';\nCREATE TABLE t (\n  a STRING\n  b INT\n);", 4, 3),
        ("SELECT 'unterminated\nFROM t;", 1, 8),
        (
            "EXECUTE STATEMENT SET\nBEGIN\nINSERT INTO a SELECT 1;\nINSERT INTO b SELEC 2;\nEND;",
            4,
            15,
        ),
    ],
)
def test_syntax_errors_carry_their_position(sql, line, col):
    with pytest.raises(FlinkSyntaxError) as caught:
        parse_statements(sql)
    assert line_col(sql, caught.value.offset) == (line, col), caught.value
