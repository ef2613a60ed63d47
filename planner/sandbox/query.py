"""The sandbox's bulk-query engine (POST /api/Contact/Query/FullContact): groups of
conditions, ORed between groups and ANDed within one, then a sort."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from planner.sandbox.records import SandboxError, detail, parse_ticks


def _int_value(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    return int(str(value).strip())


def _after(field: str) -> Callable[[dict, int], bool]:
    return lambda rec, v: (parse_ticks(rec.get(field)) or 0) > v


def _before(field: str) -> Callable[[dict, int], bool]:
    return lambda rec, v: (parse_ticks(rec.get(field)) or 0) < v


# parameter -> (value converter, {operator: test(record, converted value)})
QUERY_PARAMETERS: dict[str, tuple[Callable[[Any], Any], dict[str, Callable[[dict, Any], bool]]]] = {
    "Contact Id": (_int_value, {
        "Is": lambda rec, v: rec["id"] == v,
        "Is Not": lambda rec, v: rec["id"] != v,
        "Greater Than": lambda rec, v: rec["id"] > v,
        "Less Than": lambda rec, v: rec["id"] < v,
    }),
    "Last Modified Date": (parse_ticks, {"After": _after("modifiedDateTimeUtc"),
                                         "Before": _before("modifiedDateTimeUtc")}),
    "Create Date": (parse_ticks, {"After": _after("createDateTimeUtc"),
                                  "Before": _before("createDateTimeUtc")}),
}
SORT_KEYS = {"Id": "id", "Contact Id": "id", "Name": "name",
             "Last Modified Date": "modifiedDateTimeUtc", "Create Date": "createDateTimeUtc"}


def compile_query(body: dict) -> Callable[[Iterable[dict]], list[dict]]:
    """Check a query body (400 for a bad one) and return: records -> the matching ones, sorted."""
    groups = [_compile(g, i) for i, g in enumerate(body.get("groups") or [])]
    sort_by = body.get("sortBy") or "Id"
    if sort_by not in SORT_KEYS:
        raise SandboxError(400, "UNKNOWN_PARAMETER", f"Cannot sort by {sort_by!r}.",
                           [detail("sortBy", "UNKNOWN_PARAMETER", f"one of {sorted(SORT_KEYS)}")])
    key = SORT_KEYS[sort_by]

    def select(records: Iterable[dict]) -> list[dict]:
        hits = [r for r in records if not groups or any(all(test(r) for test in g) for g in groups)]
        hits.sort(key=lambda r: (r.get(key) is None, r.get(key) or "", r["id"]),
                  reverse=bool(body.get("descending")))
        return hits

    return select


def _compile(group: Any, g: int) -> list[Callable[[dict], bool]]:
    tests = []
    conditions = group.get("conditions") if isinstance(group, dict) else None
    if not isinstance(conditions, list):
        raise SandboxError(400, "INVALID_PARAMETER", "A group needs a conditions list.",
                           [detail(f"groups[{g}].conditions", "INVALID_PARAMETER", "expected a list")])
    for c, cond in enumerate(conditions):
        where = f"groups[{g}].conditions[{c}]"
        if not isinstance(cond, dict):
            raise SandboxError(400, "INVALID_PARAMETER", "A condition must be an object.",
                               [detail(where, "INVALID_PARAMETER", "expected an object")])
        param, operator, value = cond.get("parameter"), cond.get("operator"), cond.get("value")
        if param not in QUERY_PARAMETERS:
            raise SandboxError(400, "UNKNOWN_PARAMETER", f"Unknown query parameter {param!r}.",
                               [detail(f"{where}.parameter", "UNKNOWN_PARAMETER",
                                       f"one of {sorted(QUERY_PARAMETERS)}")])
        convert, operators = QUERY_PARAMETERS[param]
        if operator not in operators:
            raise SandboxError(400, "UNKNOWN_OPERATOR", f"{param!r} has no operator {operator!r}.",
                               [detail(f"{where}.operator", "UNKNOWN_OPERATOR",
                                       f"one of {sorted(operators)}")])
        try:
            converted = convert(value)
            if converted is None:
                raise ValueError(value)
        except (TypeError, ValueError):
            raise SandboxError(400, "INVALID_PARAMETER", f"Bad value for {param!r}.",
                               [detail(f"{where}.value", "INVALID_PARAMETER",
                                       f"{value!r} is not a valid value")]) from None
        tests.append(lambda rec, test=operators[operator], v=converted: test(rec, v))
    return tests
