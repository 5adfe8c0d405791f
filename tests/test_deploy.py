"""The deploy client's own behaviour that needs no cluster: the settings a job runs with, the
import noise it keeps out of `submit`'s output, and reading a running job's latest checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import deploy, planmatch, versions
from stack.config import load_config
from stack.processes import StackError

ROOT = Path(__file__).resolve().parents[1]


def test_silver_gold_bounds_its_deduplication_state_and_is_named_for_the_deployment():
    config = load_config(deployment="elsewhere")
    job = deploy.load_job(config, "silver_gold")
    assert job.settings["table.exec.state.ttl"] == config.dedup_state_ttl
    assert deploy.pipeline_name(config, "silver_gold") == "elsewhere: silver + gold"


def test_a_job_without_a_pipeline_name_is_named_for_the_deployment(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "tables" / "snk.sql").write_text("create table snk (a string) with ();")
    (tmp_path / "jobs" / "j.sql").write_text(
        "execute statement set begin insert into snk select 'a'; end;"
    )
    config = load_config(sql_dir=tmp_path, deployment="elsewhere", checkpoint_interval="3 s")
    settings = deploy.job_settings(config, deploy.load_job(config, "j"))
    assert settings["pipeline.name"] == "elsewhere: j"
    assert settings["execution.checkpointing.interval"] == "3 s"


BEAM_IMPORT = """
import logging
from pipeline import deploy
{install}
import apache_beam.io.filesystems
log = logging.getLogger("apache_beam.io.filesystems")
log.warning("Failed to import SomethingElse; a real problem")
log.error("Failed to import Broken; loading of this filesystem will be skipped")
"""


def test_the_optional_filesystem_warning_is_silenced_and_nothing_else():
    def stderr(install: str) -> str:
        code = BEAM_IMPORT.format(install=install)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stderr

    noisy = stderr("")
    assert "Failed to import GCSFileSystem; loading of this filesystem will be skipped" in noisy
    quiet = stderr("deploy.quiet_optional_filesystems()")
    assert "GCSFileSystem" not in quiet
    assert "Failed to import SomethingElse; a real problem" in quiet
    assert "Failed to import Broken; loading of this filesystem will be skipped" in quiet


# --- compiled plans: matching, verdicts, id rewriting (pipeline.planmatch) -------------------


def _plan(window: str = "PT1M", extra_sink_first: bool = False, start_id: int = 1) -> dict:
    """A compiled plan shaped like Flink's JSON: Kafka source -> dedup -> silver sink, and dedup
    -> window aggregate -> gold sink; optionally a second gold sink added before the others."""
    table = lambda name: {"table": {"identifier": f"`c`.`d`.`{name}`"}}  # noqa: E731
    row = {"type": "ROW<`id` VARCHAR(2147483647)>"}
    nodes = [
        ("source", {"type": "stream-exec-table-source-scan_2", "scanTableSource": table("events")}),
        ("dedup", {"type": "stream-exec-deduplicate_1", "uniqueKeys": [0], "keepLastRow": False}),
        ("silver", {"type": "stream-exec-sink_2", "dynamicTableSink": table("silver")}),
        (
            "window",
            {"type": "stream-exec-global-window-aggregate_1", "windowing": {"size": window}},
        ),
        ("gold", {"type": "stream-exec-sink_2", "dynamicTableSink": table("gold")}),
    ]
    edges = [("source", "dedup"), ("dedup", "silver"), ("dedup", "window"), ("window", "gold")]
    if extra_sink_first:
        nodes.insert(0, ("copy", {"type": "stream-exec-sink_2", "dynamicTableSink": table("copy")}))
        edges.append(("window", "copy"))
    ids = {name: start_id + i for i, (name, _) in enumerate(nodes)}
    return {
        "flinkVersion": "2.3",
        "nodes": [
            {**body, "id": ids[name], "description": f"{name}[{ids[name]}]", "outputType": row}
            for name, body in nodes
        ],
        "edges": [{"source": ids[a], "target": ids[b]} for a, b in edges],
    }


def _verdicts(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for verdict in result.verdicts:
        out.setdefault(verdict.verdict, []).append(verdict.operator.split("]")[0].split("[")[0])
    return out


def test_the_same_plan_compiled_later_in_the_jvm_is_unchanged():
    result = planmatch.match(_plan(), _plan(start_id=68))
    assert result.unchanged
    assert _verdicts(result) == {
        "kept": ["table-source-scan", "deduplicate", "sink", "global-window-aggregate", "sink"]
    }


def test_a_sink_added_first_keeps_every_running_operators_id_and_starts_empty():
    running = planmatch.first_ids(_plan())
    result = planmatch.match(running, _plan(extra_sink_first=True, start_id=100))
    assert not result.unchanged
    assert [v.operator for v in result.of("new")] == ["sink[100] copy"]
    assert len(result.of("kept")) == 5 and not result.of("dropped")
    rewritten = planmatch.rewrite_ids(_plan(extra_sink_first=True, start_id=100), result, 5)
    by_table = {
        n.get("dynamicTableSink", n.get("scanTableSource", {})).get("table", {}).get("identifier")
        or planmatch.kind(n): n["id"]
        for n in rewritten["nodes"]
    }
    assert by_table == {
        "`c`.`d`.`copy`": 6,  # fresh: above every id the job ran
        "`c`.`d`.`events`": 1,
        "deduplicate": 2,
        "`c`.`d`.`silver`": 3,
        "global-window-aggregate": 4,
        "`c`.`d`.`gold`": 5,
    }
    assert {(e["source"], e["target"]) for e in rewritten["edges"]} == {
        (1, 2),
        (2, 3),
        (2, 4),
        (4, 5),
        (4, 6),
    }


def test_a_changed_window_size_is_incompatible_and_gets_a_fresh_id():
    running = planmatch.first_ids(_plan())
    result = planmatch.match(running, _plan(window="PT2M", start_id=40))
    [incompatible] = result.of("incompatible")
    assert incompatible.old_id == 4
    assert '.windowing.size: "PT1M" -> "PT2M"' in incompatible.detail
    # the sink behind it only changed upstream: its pending files are kept
    assert sorted(_verdicts(result)["kept"]) == ["deduplicate", "sink", "sink", "table-source-scan"]
    rewritten = planmatch.rewrite_ids(_plan(window="PT2M", start_id=40), result, 5)
    window = next(n for n in rewritten["nodes"] if planmatch.kind(n) == "global-window-aggregate")
    assert window["id"] == 6


def test_a_removed_sink_is_dropped():
    running = planmatch.first_ids(_plan(extra_sink_first=True))
    result = planmatch.match(running, _plan(start_id=10))
    assert [v.operator for v in result.of("dropped")] == ["sink[1] copy"]


# --- recorded versions and the JVM-free fingerprint (pipeline.versions) ----------------------


def _project(tmp_path, view_sql: str) -> Path:
    for folder in ("tables", "views", "jobs"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "tables" / "snk.sql").write_text("create table snk (a string) with ();")
    (tmp_path / "views" / "v.sql").write_text(view_sql)
    (tmp_path / "jobs" / "j.sql").write_text(
        "execute statement set begin insert into snk (a) select a from v; end;"
    )
    return tmp_path


def _fingerprint(config, job_name: str = "j") -> str:
    job = deploy.load_job(config, job_name)
    return versions.fingerprint(job, deploy.job_settings(config, job), versions.jar_hashes(config))


def test_a_comment_or_layout_change_keeps_the_fingerprint_and_a_literal_change_does_not(tmp_path):
    config = load_config(sql_dir=_project(tmp_path, "create view v as select 'x  y' as a;"))
    before = _fingerprint(config)
    _project(tmp_path, "-- why: a comment\ncreate view v as\n  select 'x  y' as a; -- more")
    assert _fingerprint(config) == before
    _project(tmp_path, "create view v as select 'x y' as a;")  # whitespace inside a literal
    assert _fingerprint(config) != before
    assert _fingerprint(load_config(sql_dir=tmp_path, checkpoint_interval="7 s")) != _fingerprint(
        config
    )


def test_versions_are_numbered_and_the_current_one_is_the_last_that_ran(tmp_path):
    config = load_config(state_dir=tmp_path, deployment="d")
    plan = planmatch.first_ids(_plan())
    first = versions.record(
        config,
        "j",
        plan,
        {"views/v.sql": "a"},
        {"k": "v"},
        {"outcome": "running", "fingerprint": "f1"},
    )
    second = versions.record(
        config,
        "j",
        plan,
        {"views/v.sql": "b"},
        {"k": "v"},
        {"outcome": "starting", "fingerprint": "f2"},
    )
    assert (first.number, second.number) == (1, 2)
    assert second.path == tmp_path / "deployments" / "d" / "j" / "2"
    assert versions.current(config, "j").number == 1
    versions.update(second, job_id="abc")
    versions.update(second, outcome="running")  # the stale object still updates the file
    assert versions.versions(config, "j")[1].meta["job_id"] == "abc"
    assert versions.current(config, "j").number == 2
    assert versions.current(config, "j").plan == plan
    assert versions.highest_node_id(config, "j") == 5
    assert versions.changed_files(first.sql(), second.sql()) == ["views/v.sql"]
    assert versions.sql_diff(first.sql(), second.sql())[-2:] == ["-a", "+b"]


def test_a_checkpoint_is_read_from_local_disk_with_or_without_its_scheme(tmp_path):
    (tmp_path / "chk-3").mkdir()
    (tmp_path / "chk-3" / "_metadata").write_bytes(b"\x00\x01")
    assert deploy.checkpoint_metadata(str(tmp_path / "chk-3")) == b"\x00\x01"
    assert deploy.checkpoint_metadata(f"file:{tmp_path}/chk-3/") == b"\x00\x01"
    with pytest.raises(deploy.CheckpointGone, match="chk-4/_metadata is gone"):
        deploy.checkpoint_metadata(f"file://{tmp_path}/chk-4")


def test_a_checkpoint_deleted_before_it_is_read_is_replaced_by_the_newer_one(tmp_path):
    """A running job's next checkpoints subsume the one REST named; REST's statistics lag, so
    it may name the deleted one again before it names the newer one."""
    (tmp_path / "chk-9").mkdir()
    (tmp_path / "chk-9" / "_metadata").write_bytes(b"nine")
    answers = iter(["chk-7", "chk-7", "chk-9"])
    read = []

    def read_metadata(location: str) -> bytes:
        read.append(location)
        return deploy.checkpoint_metadata(str(tmp_path / location))

    location, raw = deploy.read_latest(lambda: next(answers), read_metadata, timeout_s=10)
    assert (location, raw) == ("chk-9", b"nine")
    assert read == ["chk-7", "chk-9"]  # the one gone is not read twice
    assert deploy.read_latest(lambda: None, read_metadata, timeout_s=10) == (None, None)


def test_checkpoints_that_keep_vanishing_are_a_clear_error_in_bounded_time(tmp_path):
    def read_metadata(location: str) -> bytes:
        return deploy.checkpoint_metadata(str(tmp_path / location))

    with pytest.raises(StackError, match=r"deleted before they could be read \(chk-1\)"):
        deploy.read_latest(lambda: "chk-1", read_metadata, timeout_s=0)
