"""Moving the lake's tables to another catalog, e.g. from a SQLite file to a catalog server when
the pipeline grows past one machine, without copying a file: each table is registered in the
new catalog at the metadata file the old one names (the data, the snapshots and the Flink
sinks' committed-checkpoint ids all live in that file, so exactly-once carries over).

Safe only while nothing commits: a commit to the old catalog after the move would be missing
from the new one. So `jobs.py move-catalog` refuses while a job of the deployment runs, and
`deploy` refuses a changed catalog that does not hold every table where the old one has it
(`behind`). The way through: `jobs.py stop` (savepoints), `jobs.py move-catalog --to URI`, set
lake_catalog to it, `jobs.py deploy JOB --from-savepoint PATH` per job (docs/lake.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import lake_reader
from stack.lake_catalog import LakeCatalog


class CatalogMoveError(RuntimeError):
    """The tables cannot be moved, or a catalog does not hold what another one does."""


@dataclass(frozen=True)
class TableState:
    metadata_location: str
    snapshot_id: int | None  # the current one
    snapshot_ids: frozenset[int]  # every one the metadata keeps

    def includes(self, other: TableState) -> bool:
        """This state is `other` or went on from it (its current snapshot is among ours)."""
        return (
            self.metadata_location == other.metadata_location
            or other.snapshot_id is None
            or other.snapshot_id in self.snapshot_ids
        )


def tables(lake_root: str | Path, lake_catalog: LakeCatalog) -> dict[str, TableState]:
    """Every table of the catalog (namespace.name) and its state."""
    if not lake_catalog.may_hold_tables():
        return {}
    catalog = lake_reader.catalog(lake_root, lake_catalog)
    found = {}
    for namespace in catalog.list_namespaces():
        for identifier in catalog.list_tables(namespace):
            table = catalog.load_table(identifier)
            current = table.current_snapshot()
            found[".".join(identifier)] = TableState(
                table.metadata_location,
                current.snapshot_id if current else None,
                frozenset(snapshot.snapshot_id for snapshot in table.snapshots()),
            )
    return found


def behind(lake_root: str | Path, source: LakeCatalog, target: LakeCatalog) -> list[str]:
    """The tables of `source` that `target` lacks, or holds without source's current snapshot:
    committed to `source` after a move."""
    held = tables(lake_root, target)
    return sorted(
        name
        for name, state in tables(lake_root, source).items()
        if name not in held or not held[name].includes(state)
    )


def move(
    lake_root: str | Path,
    source: LakeCatalog,
    target: LakeCatalog,
    log: Callable[[str], None] = print,
) -> list[str]:
    """Register every table of `source` in `target` at its current metadata file; the tables
    registered. A table `target` already holds at that state or one after it is left alone (a
    second run does nothing); any other is an error, and nothing is registered."""
    if source == target:
        raise CatalogMoveError(f"the lake's catalog is {target} already")
    wanted = tables(lake_root, source)
    if not wanted:
        raise CatalogMoveError(f"the catalog {source} holds no table of the lake {lake_root}")
    held = tables(lake_root, target)
    conflicts = sorted(
        name for name, state in wanted.items() if name in held and not held[name].includes(state)
    )
    if conflicts:
        raise CatalogMoveError(
            f"{target} holds {', '.join(conflicts)} at other metadata files than {source}: "
            "another lake's tables, or committed to after a move; nothing was registered"
        )
    catalog = lake_reader.catalog(lake_root, target)
    moved = []
    for name, state in sorted(wanted.items()):
        if name in held:
            continue
        catalog.create_namespace_if_not_exists(name.split(".")[0])
        catalog.register_table(name, state.metadata_location)
        log(f"{name}: registered in {target} at {state.metadata_location}")
        moved.append(name)
    return moved
