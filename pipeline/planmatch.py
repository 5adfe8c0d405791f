"""Compare a job's new compiled plan with the plan that runs, and give the new plan the running
plan's node ids wherever an operator can keep its state.

A compiled plan (Flink's `COMPILE PLAN` JSON) gives each operator the uid `<node id>_<name>`, and a
savepoint maps state to operators by uid. Node ids come from a counter shared by the whole client
JVM and shift when an INSERT is added anywhere but last, so ids are never compared directly:
nodes are paired by content (identical sub-plans), then by position (sinks and sources by table,
then inputs pairwise), and each stateful operator gets a verdict:

    kept          same operator (identical, or only something upstream changed): state restored
    new           no counterpart in the running plan: starts empty
    dropped       a running operator with no counterpart: its state is lost
    incompatible  same operator, but its state means something else now (window size, key,
                  aggregate list, ...): restoring it would silently mix old and new logic

Pure Python over the JSON: no JVM.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field

# ExecNodes whose operators keep state a savepoint carries.
STATEFUL_KINDS = (
    "table-source-scan",
    "sink",
    "deduplicate",
    "global-window-aggregate",
    "window-aggregate",
    "group-aggregate",
    "global-group-aggregate",
    "incremental-group-aggregate",
    "join",
    "interval-join",
    "temporal-join",
    "window-join",
    "window-deduplicate",
    "window-rank",
    "rank",
    "over-aggregate",
    "changelog-normalize",
    "match",
    "limit",
    "sort",
    "temporal-sort",
    "group-window-aggregate",
)
# Fields of a node that name it or count the planner's work, not what it computes.
COSMETIC = {"id", "description"}
CORRELATION = re.compile(r"\$cor\d+")  # another JVM-global planner counter
# Per kind, the only fields whose change makes existing state meaningless; kinds not listed
# compare their whole definition and input types. A file sink's state is pending files (schema
# and options are free); a Kafka source's state is offsets per topic partition.
STATE_FIELDS = {
    "sink": ("dynamicTableSink.table.identifier",),
    "table-source-scan": (
        "scanTableSource.table.identifier",
        "scanTableSource.table.resolvedTable.options.topic",
        "scanTableSource.table.resolvedTable.options.topic-pattern",
    ),
}
# Kinds whose state does not depend on the input row type (proctime keep-first dedup stores a
# flag per key; a sink's pending files do not hold rows in state).
INPUT_TYPE_FREE = {"sink", "table-source-scan", "deduplicate"}


def kind(node: dict) -> str:
    """`stream-exec-global-window-aggregate_1` -> `global-window-aggregate`."""
    return node["type"].rsplit("_", 1)[0].removeprefix("stream-exec-")


def is_stateful(node: dict) -> bool:
    return kind(node) in STATEFUL_KINDS


def label(node: dict) -> str:
    """How an operator is named to a person: its kind, what it writes/reads, its uid id."""
    if kind(node) == "sink":
        what = node["dynamicTableSink"]["table"]["identifier"].rsplit(".", 1)[-1].strip("`")
    elif kind(node) == "table-source-scan":
        what = node["scanTableSource"]["table"]["identifier"].rsplit(".", 1)[-1].strip("`")
    else:
        what = CORRELATION.sub("$cor", node.get("description", ""))[:90]
    return f"{kind(node)}[{node['id']}] {what}"


def own_content(node: dict) -> str:
    body = {k: v for k, v in node.items() if k not in COSMETIC}
    return CORRELATION.sub("$cor", json.dumps(body, sort_keys=True))


def inputs_of(plan: dict) -> dict[int, list[int]]:
    inputs: dict[int, list[int]] = {n["id"]: [] for n in plan["nodes"]}
    for edge in plan["edges"]:
        inputs[edge["target"]].append(edge["source"])
    return inputs


def signatures(plan: dict) -> dict[int, str]:
    """A Merkle hash per node: its own definition and its inputs' signatures, in edge order."""
    inputs, nodes, signature = inputs_of(plan), {n["id"]: n for n in plan["nodes"]}, {}

    def visit(node_id: int) -> str:
        if node_id not in signature:
            digest = hashlib.sha256(own_content(nodes[node_id]).encode())
            for source in inputs[node_id]:
                digest.update(visit(source).encode())
            signature[node_id] = digest.hexdigest()
        return signature[node_id]

    for node in plan["nodes"]:
        visit(node["id"])
    return signature


@dataclass(frozen=True)
class Verdict:
    verdict: str  # kept | new | dropped | incompatible
    operator: str  # label of the new operator (of the old one when dropped)
    old_id: int | None
    new_id: int | None
    detail: str = ""


@dataclass
class Match:
    pairs: dict[int, int]  # new node id -> running node id (the same logical operator)
    identical: set[int]  # new node ids whose whole sub-plan is unchanged
    verdicts: list[Verdict] = field(default_factory=list)
    node_count: tuple[int, int] = (0, 0)  # (running, new)

    @property
    def unchanged(self) -> bool:
        running, new = self.node_count
        return running == new == len(self.identical)

    def of(self, verdict: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.verdict == verdict]


def _differences(old: object, new: object, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            if key in COSMETIC:
                continue
            if key not in old or key not in new:
                out.append(f"{path}.{key}")
            else:
                out += _differences(old[key], new[key], f"{path}.{key}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]
    same = CORRELATION.sub("$cor", json.dumps(old, sort_keys=True)) == CORRELATION.sub(
        "$cor", json.dumps(new, sort_keys=True)
    )
    return [] if same else [f"{path or '.'}: {_short(old)} -> {_short(new)}"]


def _short(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _state_differences(old: dict, new: dict) -> list[str]:
    fields = STATE_FIELDS.get(kind(new))
    if fields is None:
        return _differences(old, new)
    out = []
    for dotted in fields:
        a, b = _get(old, dotted), _get(new, dotted)
        if a != b:
            out.append(f".{dotted}: {_short(a)} -> {_short(b)}")
    return out


def _get(node: dict, dotted: str) -> object:
    value: object = node
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _pair(old: dict, new: dict) -> tuple[dict[int, int], set[int]]:
    old_inputs, new_inputs = inputs_of(old), inputs_of(new)
    old_nodes, new_nodes = {n["id"]: n for n in old["nodes"]}, {n["id"]: n for n in new["nodes"]}
    pairs: dict[int, int] = {}
    by_signature: dict[str, deque[int]] = defaultdict(deque)
    old_signatures, new_signatures = signatures(old), signatures(new)
    for node in old["nodes"]:
        by_signature[old_signatures[node["id"]]].append(node["id"])
    for node in new["nodes"]:
        candidates = by_signature.get(new_signatures[node["id"]])
        if candidates:
            pairs[node["id"]] = candidates.popleft()
    identical = set(pairs)

    def endpoints(plan: dict) -> dict[tuple[str, str], int]:
        ends = {}
        for node in plan["nodes"]:
            if kind(node) == "sink":
                ends["sink", node["dynamicTableSink"]["table"]["identifier"]] = node["id"]
            elif kind(node) == "table-source-scan":
                ends["source", node["scanTableSource"]["table"]["identifier"]] = node["id"]
        return ends

    old_ends = endpoints(old)
    queue = deque(
        (new_id, old_ends[key]) for key, new_id in endpoints(new).items() if key in old_ends
    )
    used = set(pairs.values())
    while queue:
        new_id, old_id = queue.popleft()
        if new_id not in pairs:
            if old_id in used or kind(new_nodes[new_id]) != kind(old_nodes[old_id]):
                continue
            pairs[new_id] = old_id
            used.add(old_id)
        elif pairs[new_id] != old_id:
            continue
        if len(new_inputs[new_id]) == len(old_inputs[old_id]):
            queue.extend(
                (a, b)
                for a, b in zip(new_inputs[new_id], old_inputs[old_id], strict=True)
                if a not in pairs
            )
    return pairs, identical


def match(old: dict, new: dict) -> Match:
    """Pair the new plan's nodes with the running plan's and judge every stateful operator."""
    pairs, identical = _pair(old, new)
    result = Match(pairs, identical, node_count=(len(old["nodes"]), len(new["nodes"])))
    old_nodes, new_nodes = {n["id"]: n for n in old["nodes"]}, {n["id"]: n for n in new["nodes"]}
    old_inputs, new_inputs = inputs_of(old), inputs_of(new)
    for node in new["nodes"]:
        if not is_stateful(node):
            continue
        new_id = node["id"]
        if new_id not in pairs:
            result.verdicts.append(Verdict("new", label(node), None, new_id, "starts empty"))
            continue
        previous = old_nodes[pairs[new_id]]
        if new_id in identical:
            result.verdicts.append(
                Verdict("kept", label(node), previous["id"], new_id, "unchanged")
            )
            continue
        changes = _state_differences(previous, node)
        if kind(node) not in INPUT_TYPE_FREE:
            old_types = [old_nodes[i]["outputType"] for i in old_inputs[previous["id"]]]
            new_types = [new_nodes[i]["outputType"] for i in new_inputs[new_id]]
            if old_types != new_types:
                changes.append("input row type")
        if changes:
            detail = "; ".join(changes[:4])
            result.verdicts.append(
                Verdict("incompatible", label(node), previous["id"], new_id, detail)
            )
        else:
            result.verdicts.append(
                Verdict("kept", label(node), previous["id"], new_id, "upstream changed")
            )
    paired_old = set(pairs.values())
    for node in old["nodes"]:
        if is_stateful(node) and node["id"] not in paired_old:
            result.verdicts.append(
                Verdict("dropped", label(node), node["id"], None, "its state is lost")
            )
    return result


def max_id(plan: dict) -> int:
    return max((n["id"] for n in plan["nodes"]), default=0)


def rewrite_ids(new: dict, result: Match, above: int) -> dict:
    """The new plan with each kept operator's running id (so its uid, so its state); every other
    node gets a fresh id above `above` (the highest id the job ever ran), so no operator can
    inherit unrelated state. Incompatible operators get fresh ids: they start empty."""
    incompatible = {v.new_id for v in result.of("incompatible")}
    mapping = {
        node["id"]: result.pairs[node["id"]]
        for node in new["nodes"]
        if node["id"] in result.pairs and node["id"] not in incompatible
    }
    fresh = above
    for node in new["nodes"]:
        if node["id"] not in mapping:
            fresh += 1
            mapping[node["id"]] = fresh
    return renumber(new, mapping)


def renumber(plan: dict, mapping: dict[int, int]) -> dict:
    out = copy.deepcopy(plan)
    for node in out["nodes"]:
        node["id"] = mapping[node["id"]]
    for edge in out["edges"]:
        edge["source"], edge["target"] = mapping[edge["source"]], mapping[edge["target"]]
    return out


def first_ids(plan: dict) -> dict:
    """A first deploy: ids 1..n in plan order (the compiler's ids depend on the JVM's history)."""
    return renumber(plan, {n["id"]: i for i, n in enumerate(plan["nodes"], start=1)})
