"""The pull-request rendering of a plan: markdown from the package's Jinja2 templates.

A GitHub pull-request comment holds at most 65,536 characters. When the full rendering is
longer, `render` collapses detail in stages and always says how much it left out: first the
contacts beyond those that fit are listed one line each, then even that list is left out.
`split` instead spreads the whole plan, in full detail, over numbered parts within the limit.

User data (names, files, labels, values) reaches the markdown in two places only: inside
fenced code blocks, where every line starts with a diff marker and newlines are escaped, so
nothing in it can close the fence; and inside the `<summary>` HTML, where it is HTML-escaped
and held in `<code>` (so `</details>`, tags, @mentions and #references stay inert).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import jinja2

from planner.ops import ADD, REMOVE, ContactPlan, FieldChange, Plan
from planner.render.text import summary
from planner.render.values import MASK, is_sensitive, show
from planner.render.values import masked as masked_value  # sensitive keys inside added items

LIMIT = 65_000  # characters: a GitHub pull-request comment holds 65,536
HEADING_CHARS = 200  # names and files are clipped in headings so that one contact always fits

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("planner", "render/templates"),
    autoescape=False,  # markdown, not HTML: escaping is explicit, where the context needs it
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_ENV.filters["html"] = lambda text: html.escape(text, quote=False)
_TICKS = re.compile(r"`{3,}")


def _template(name: str) -> Callable[..., str]:
    return _ENV.get_template(name).render


def _one_line(text: str) -> str:
    """CommonMark ends lines only at CR and LF: escaped, a value stays on its diff line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _clip(text: str) -> str:
    return text if len(text) <= HEADING_CHARS else text[:HEADING_CHARS - 1] + "…"


def _fence(lines: Iterable[str]) -> str:
    """A fence longer than any backtick run inside (no line can start one, but be sure)."""
    longest = max((len(run) for line in lines for run in _TICKS.findall(line)), default=0)
    return "`" * max(3, longest + 1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def change_lines(change: FieldChange, sensitive: Iterable[str] = ()) -> list[str]:
    """The diff lines of one change: an update is its old value removed, its new one added."""
    names = frozenset(sensitive)
    masked = is_sensitive(change, names)
    before = MASK if masked else show(masked_value(change.before, names))
    after = MASK if masked else show(masked_value(change.after, names))
    if change.action == ADD:
        lines = [f"+ {change.label}: {after}"]
    elif change.action == REMOVE:
        lines = [f"- {change.label}: {before}"]
    else:
        lines = [f"- {change.label}: {before}", f"+ {change.label}: {after}"]
    return [_one_line(line) for line in lines]


def heading(contact: ContactPlan) -> str:
    """The text renderer's contact header, on one line and clipped."""
    name = f' "{_clip(contact.name)}"' if contact.name else ""
    return _one_line(f"contact {contact.contact_id}{name} ({_clip(contact.file)})")


def _total(contact: ContactPlan) -> int:
    return sum(len(op.changes) for op in contact.operations)


def _counts(contact: ContactPlan, left_out: int = 0) -> str:
    counts = (f"{_plural(len(contact.operations), 'operation')}, "
              f"{_plural(_total(contact), 'change')}")
    return counts + (f" ({left_out} left out)" if left_out else "")


@dataclass(frozen=True)
class _OpView:
    """One operation as the contact template shows it."""

    title: str
    lines: tuple[str, ...]
    left_out: int


def _contact_block(contact: ContactPlan, sensitive: frozenset[str],
                   keep: int | None = None) -> str:
    """One contact's section; `keep` changes at most (None: all; -1: not even the requests)."""
    budget = _total(contact) if keep is None else max(keep, 0)
    ops = []
    for op in contact.operations:
        kept = op.changes[:budget]
        budget -= len(kept)
        lines = tuple(line for change in kept for line in change_lines(change, sensitive))
        ops.append(_OpView(f"{op.method} {op.path}", lines, len(op.changes) - len(kept)))
    left_out = sum(op.left_out for op in ops)
    return _template("contact.md.j2")(
        heading=heading(contact), counts=_counts(contact, left_out), left_out=left_out,
        total=_total(contact), ops=[] if keep == -1 else ops,
        fence=_fence(line for op in ops for line in op.lines),
    ).strip("\n")


def _fit_contact(contact: ContactPlan, sensitive: frozenset[str], budget: int) -> str:
    """The contact's section with as many of its changes as fit in `budget` characters."""
    block = _contact_block(contact, sensitive)
    if len(block) <= budget:
        return block
    keep = _largest(lambda k: _contact_block(contact, sensitive, k), _total(contact) - 1, budget)
    if keep is None:
        keep = -1
    block = _contact_block(contact, sensitive, keep)
    if len(block) > budget:
        raise ValueError(f"{budget} characters (the limit less a part's head) cannot hold "
                         f"even the heading of contact {contact.contact_id}")
    return block


def _largest(build: Callable[[int], str], high: int, limit: int) -> int | None:
    """The largest k in [0, high] whose build fits in `limit`, or None if none does.

    Each build grows with k (a contact in detail outweighs its one-line listing), so a
    binary search finds it; the final check keeps the answer right even if that slipped."""
    low, best = 0, None
    while low <= high:
        middle = (low + high) // 2
        if len(build(middle)) <= limit:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    while best is not None and len(build(best)) > limit:
        best = best - 1 if best > 0 else None
    return best


def _head(plan: Plan, **numbers: int) -> str:
    values = dict(part=0, parts=0, first=0, last=0, shown=0, listed=0, omitted=0)
    values.update(numbers)
    return _template("head.md.j2")(
        changed=len(plan.changed), requests=plan.requests_to_apply(),
        unchanged=len(plan.unchanged), no_changes=summary(plan),
        unplannable=[(u.contact_id, html.escape(_clip(_one_line(u.file))),
                      html.escape(_clip(_one_line(u.reason)))) for u in plan.unplannable[:20]],
        unplannable_count=len(plan.unplannable), **values,
    ).strip("\n")


def _document(head: str, blocks: Sequence[str] = (), tail: str | None = None) -> str:
    """Pieces joined by blank lines: its length is the sum of theirs plus two per join."""
    return "\n\n".join([head, *blocks, *([tail] if tail else [])]) + "\n"


def _listed(contacts: Iterable[ContactPlan]) -> str:
    lines = [f"{heading(c)}: {_counts(c)}" for c in contacts]
    return _template("listed.md.j2")(lines=lines, fence=_fence(lines)).strip("\n")


def _omitted(count: int) -> str:
    return _template("omitted.md.j2")(count=count).strip("\n")


def _too_small(limit: int, needed: int) -> ValueError:
    return ValueError(f"a limit of {limit} characters cannot hold even the plan's summary "
                      f"({needed} characters)")


def render(plan: Plan, *, sensitive: Iterable[str] = (), limit: int = LIMIT) -> str:
    """The plan as one markdown document of at most `limit` characters."""
    names = frozenset(sensitive)
    changed = plan.changed
    n = len(changed)
    if not n:
        document = _document(_head(plan))
        if len(document) > limit:
            raise _too_small(limit, len(document))
        return document
    blocks = [_contact_block(c, names) for c in changed]
    full = _document(_head(plan, shown=n), blocks)
    if len(full) <= limit:
        return full

    def listing(k: int) -> str:
        return _document(_head(plan, shown=k, listed=n - k), blocks[:k], _listed(changed[k:]))

    def leaving_out(k: int) -> str:
        return _document(_head(plan, shown=k, omitted=n - k), blocks[:k], _omitted(n - k))

    for build in (listing, leaving_out):
        k = _largest(build, n - 1, limit)
        if k is not None:
            return build(k)
    raise _too_small(limit, len(leaving_out(0)))


def split(plan: Plan, *, sensitive: Iterable[str] = (), limit: int = LIMIT) -> list[str]:
    """The whole plan in numbered parts of at most `limit` characters, for `--split DIR`.

    Every changed contact is in exactly one part, whole; a contact too long for a part of its
    own keeps its heading and as many of its changes as fit, and says how many it left out."""
    names = frozenset(sensitive)
    changed = plan.changed
    n = len(changed)
    if not n:
        document = _document(_head(plan, part=1, parts=1))
        if len(document) > limit:
            raise _too_small(limit, len(document))
        return [document]
    # A part's head with the largest numbers any part can carry: no real head is longer.
    budget = limit - len(_document(_head(plan, part=n, parts=n, first=n, last=n, shown=n)))
    while True:
        if budget <= 0:
            raise _too_small(limit, limit - budget)
        groups = _pack([_fit_contact(c, names, budget - 2) for c in changed], budget)
        parts, first = [], 1
        for number, group in enumerate(groups, 1):
            head = _head(plan, part=number, parts=len(groups), first=first,
                         last=first + len(group) - 1, shown=len(group))
            parts.append(_document(head, group))
            first += len(group)
        over = max(len(part) for part in parts) - limit
        if over <= 0:
            return parts
        budget -= over  # not expected: the head bound above is an upper bound


def _pack(blocks: list[str], budget: int) -> list[list[str]]:
    """Blocks in order, as many to a part as fit in `budget` (each costs two more to join)."""
    groups: list[list[str]] = []
    used = budget + 1
    for block in blocks:
        cost = len(block) + 2
        if used + cost > budget:
            groups.append([])
            used = 0
        groups[-1].append(block)
        used += cost
    return groups
