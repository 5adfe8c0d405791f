"""Moving the lake's tables to another catalog (pipeline/catalog_move.py) and deploy's refusal of
a catalog that does not hold them (upgrade.check_catalog_unchanged), on real lakes with SQLite
catalogs: the same JdbcCatalog tables as on a server. The move to a PostgreSQL server between a
stop and a resume of the running jobs: tests/integration/test_s3_lake.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from lake_fixture import event, small_hand_checked_lake, write_table
from typer.testing import CliRunner

from pipeline import catalog_move, deploy, lake_reader, upgrade
from pipeline.versions import Version
from stack.config import load_config
from stack.lake_catalog import LakeCatalog
from stack.processes import StackError, free_ports


def at_root(root: Path) -> LakeCatalog:
    return LakeCatalog(file=root / "catalog.db")


def rows(root: Path, lake_catalog: LakeCatalog, identifier: str) -> list[tuple]:
    table = lake_reader.catalog(root, lake_catalog).load_table(identifier)
    files = sorted(task.file.file_path for task in table.scan().plan_files())
    return [(table.metadata_location, len(files), *files)]


@pytest.fixture
def lake_root(tmp_path) -> Path:
    root = tmp_path / "lake"
    small_hand_checked_lake(root)
    return root


def test_the_tables_are_registered_where_the_old_catalog_has_them(lake_root, tmp_path):
    source, target = at_root(lake_root), LakeCatalog(file=tmp_path / "new" / "catalog.db")
    target.prepare()
    held = catalog_move.tables(lake_root, source)
    assert "silver.events" in held and len(held) >= 5
    assert catalog_move.behind(lake_root, source, target) == sorted(held)

    moved = catalog_move.move(lake_root, source, target, log=lambda _line: None)
    assert moved == sorted(held)
    assert catalog_move.tables(lake_root, target) == held
    assert catalog_move.behind(lake_root, source, target) == []
    for identifier in held:  # the same snapshot, so the same files
        assert rows(lake_root, target, identifier) == rows(lake_root, source, identifier)
    # Again: nothing left to register.
    assert catalog_move.move(lake_root, source, target, log=lambda _line: None) == []

    # A commit to the old catalog after the move leaves the new one behind on that table...
    write_table(
        lake_root, "silver/events", [event("e900", "page_view", "2024-03-02T12:00:00", "u9")]
    )
    assert catalog_move.behind(lake_root, source, target) == ["silver.events"]
    with pytest.raises(catalog_move.CatalogMoveError, match=r"silver\.events at other"):
        catalog_move.move(lake_root, source, target, log=lambda _line: None)
    # ...one to the new catalog after the move goes on from the old one's state: not behind.
    fresh = LakeCatalog(file=tmp_path / "fresh" / "catalog.db")
    fresh.prepare()
    catalog_move.move(lake_root, source, fresh, log=lambda _line: None)
    table = lake_reader.catalog(lake_root, fresh).load_table("silver.events")
    with table.transaction() as transaction:  # a commit of the new catalog's own
        transaction.set_properties({"clickstream.test": "after the move"})
    assert (
        catalog_move.tables(lake_root, fresh)["silver.events"]
        != (catalog_move.tables(lake_root, source)["silver.events"])
    )
    assert catalog_move.behind(lake_root, source, fresh) == []


def test_a_catalog_holding_a_table_elsewhere_is_refused_whole(lake_root, tmp_path):
    source = at_root(lake_root)
    other_root = tmp_path / "other"
    write_table(
        other_root, "silver/events", [event("e901", "page_view", "2024-03-01T10:00:00", "u1")]
    )
    target = at_root(other_root)  # holds silver.events of another lake
    before = catalog_move.tables(lake_root, target)
    with pytest.raises(catalog_move.CatalogMoveError, match=r"holds silver\.events at other"):
        catalog_move.move(lake_root, source, target, log=lambda _line: None)
    assert catalog_move.tables(lake_root, target) == before  # nothing registered
    with pytest.raises(catalog_move.CatalogMoveError, match="already"):
        catalog_move.move(lake_root, source, source)
    empty = LakeCatalog(file=tmp_path / "empty" / "catalog.db")
    with pytest.raises(catalog_move.CatalogMoveError, match="holds no table"):
        catalog_move.move(lake_root, empty, source)


def change_of(job: str, recorded: str | None, active: bool) -> upgrade.JobChange:
    """A job whose last version ran with the catalog `recorded` (and runs now if `active`)."""
    current = Version(job, 1, Path("/nonexistent"), {"lake_catalog": recorded, "job_id": "j1"})
    info = deploy.JobInfo("j1", f"clickstream: {job}", "RUNNING", 0) if active else None
    return upgrade.JobChange(job, None, {}, {}, "fingerprint", {}, current, info)


def test_deploy_refuses_a_new_catalog_until_it_holds_the_tables(lake_root, tmp_path):
    """The jobs ran with the catalog at old/catalog.db; the config now names the lake's own
    catalog.db, which the Flink sinks would fill with new, empty tables."""
    old = LakeCatalog(file=tmp_path / "old" / "catalog.db")
    old.prepare()
    catalog_move.move(lake_root, at_root(lake_root), old, log=lambda _line: None)
    (lake_root / "catalog.db").unlink()  # as if the lake's catalog had always been old/
    config = load_config(path=tmp_path / "none.toml", environ={}, lake_root=str(lake_root))
    assert config.lake_iceberg_catalog == at_root(lake_root)

    with pytest.raises(StackError, match=r"while the job runs.*Nothing was stopped"):
        upgrade.check_catalog_unchanged(config, [change_of("bronze", str(old), active=True)])
    with pytest.raises(StackError, match=r"does not hold .*silver\.events.*Nothing was deployed"):
        upgrade.check_catalog_unchanged(config, [change_of("bronze", str(old), active=False)])

    catalog_move.move(lake_root, old, at_root(lake_root), log=lambda _line: None)
    upgrade.check_catalog_unchanged(config, [change_of("bronze", str(old), active=False)])
    # The same catalog, or a version recorded before catalogs were: nothing to check.
    upgrade.check_catalog_unchanged(
        config, [change_of("bronze", str(config.lake_iceberg_catalog), active=True)]
    )
    upgrade.check_catalog_unchanged(config, [change_of("bronze", None, active=True)])


def test_move_catalog_refuses_a_bad_target_or_an_unknown_cluster_with_the_reason(
    lake_root, tmp_path, monkeypatch
):
    """`jobs.py move-catalog` checks the target's URI, and must see the cluster to know that no
    job commits to the old catalog: nothing is registered otherwise."""
    import jobs

    monkeypatch.setenv("CLICKSTREAM_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CLICKSTREAM_LAKE_ROOT", str(lake_root))
    (port,) = free_ports(1)  # nothing listens there
    monkeypatch.setenv("CLICKSTREAM_FLINK_REST_URL", f"http://127.0.0.1:{port}")
    target = tmp_path / "new" / "catalog.db"
    runs = {
        "postgresql://lake:secret@db/lake": "must not carry a password",
        str(target): "is not reachable",
    }
    for to, reason in runs.items():
        result = CliRunner().invoke(jobs.app, ["move-catalog", "--to", to])
        assert result.exit_code == 1, result.output
        assert reason in result.output
    assert not target.exists()
