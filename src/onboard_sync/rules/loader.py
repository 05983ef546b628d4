"""Load a playbook from TOML: one file, or a directory of files merged in name order.

:func:`load_playbook` parses with ``tomllib``, validates every table strictly (unknown
keys, missing keys, wrong types, duplicate keys, unknown phase/segment/role references)
and compiles every CEL condition once (:mod:`onboard_sync.rules.expressions`). Any
problem raises :class:`~onboard_sync.errors.ConfigError` whose ``where`` names the file,
the line (found by :mod:`onboard_sync.tomlfile`) and the key path, e.g.
``rules/playbook.toml:42 (phases[3].tasks[1].when)``.

Merging a directory: ``[[segments]]``, ``[[phases]]`` and ``[[health.components]]`` are
concatenated in file-name order; ``[playbook]`` and the scalar ``[health]`` settings may
each be set in one file only. The schema is documented in docs/playbook-rules.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from onboard_sync.errors import ConfigError
from onboard_sync.rules.alerts import check_alert_owners, read_alert, read_health_extras
from onboard_sync.rules.expressions import RULE_NAMES, SEGMENT_NAMES
from onboard_sync.rules.model import (
    METRICS,
    OWNER_ROLES,
    PRIORITIES,
    AlertRule,
    Decision,
    HealthComponent,
    HealthModel,
    Phase,
    Playbook,
    Segment,
    TaskTemplate,
)
from onboard_sync.rules.table import MAX_DAYS, RuleTable
from onboard_sync.tomlfile import read_toml

T = TypeVar("T")
MAX_TIMELINE_FACTOR = 100.0
"""A segment's plan is at most 100× the base plan (``timeline_factor``, or ``duration_days / base_days``)."""
MAX_WEIGHT = 10_000.0
"""Health weights are relative; a bound keeps their sum a real number."""
_DEFAULT_DIR = Path(__file__).parent / "default"
_EXAMPLES_DIR = Path(__file__).parent / "examples"


def default_playbook_path() -> Path:
    """The directory of the shipped default playbook (merged from the five seed SOPs)."""
    return _DEFAULT_DIR


def example_playbooks() -> dict[str, Path]:
    """The shipped example playbooks, one per seed SOP, plus ``default`` (the merged default).

    Keys are the file stems (``seed004_fnb_30_60_90`` …); each value loads with :func:`load_playbook`.
    """
    examples = {p.stem: p for p in sorted(_EXAMPLES_DIR.glob("*.toml"))}
    return {**examples, "default": _DEFAULT_DIR}


def load_playbook(path: str | Path) -> Playbook:
    """Load and validate a playbook file or directory; raise ConfigError on any problem."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".toml" and p.is_file())
        if not files:
            raise ConfigError("no .toml files in the playbook directory", where=str(path))
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError("playbook file or directory not found", where=str(path))
    return _build([_read(f) for f in files])


def _read(path: Path) -> RuleTable:
    doc = read_toml(path)
    return RuleTable(doc, doc.data, ())


def _build(documents: list[RuleTable]) -> Playbook:
    meta: dict[str, Any] = {}
    segments: list[Segment] = []
    phases: list[Phase] = []
    health = HealthModel()
    health_where: str | None = None
    components: list[HealthComponent] = []
    alerts: list[AlertRule] = []
    health_extras: dict[str, Any] = {}
    pending_refs: list[Callable[[Playbook], None]] = []
    for doc in documents:
        head = doc.table("playbook")
        if head is not None:
            if meta:
                raise head.src.error(("playbook",), f"[playbook] is already set in {meta['file']}")
            meta = _read_meta(head)
        segments += [_read_segment(t) for t in doc.tables("segments")]
        phases += [_read_phase(t, pending_refs) for t in doc.tables("phases")]
        section = doc.table("health")
        if section is not None:
            components += [_read_component(t) for t in section.tables("components")]
            if set(section.data) - {"components"}:
                if health_where:
                    raise section.src.error(("health",), f"[health] settings are already set at {health_where}")
                health_where = section.src.where(("health",))
                health_extras = read_health_extras(section)
                health = _read_health(section)
            section.done()
        alerts += [read_alert(t) for t in doc.tables("alerts")]
        doc.done()
    if not meta:
        raise documents[0].src.error((), "missing [playbook] table (name, description, version)")
    if not phases:
        raise documents[0].src.error(("phases",), "a playbook needs at least one [[phases]] entry")
    if not segments:
        raise documents[0].src.error(("segments",), "a playbook needs at least one [[segments]] entry")
    _unique(segments, "segment")
    _unique(phases, "phase")
    _unique([t for p in phases for t in p.tasks], "task")
    _unique(components, "health component")
    _unique(alerts, "alert")
    terminal = phases[-1]
    if terminal.tasks:
        raise ConfigError(
            "the last phase is terminal (entering it completes the onboarding) and cannot have tasks",
            where=terminal.tasks[0].where,
        )
    roles = frozenset(OWNER_ROLES) | frozenset(meta["roles"])
    playbook = Playbook(
        name=meta["name"],
        description=meta["description"],
        version=meta["version"],
        base_days=meta["base_days"],
        go_live_phase=meta["go_live_phase"],
        phases=tuple(phases),
        segments=tuple(segments),
        health=HealthModel(
            healthy_min=health.healthy_min,
            at_risk_min=health.at_risk_min,
            at_risk_statuses=health.at_risk_statuses,
            blocker_days=health.blocker_days,
            milestone_grace_days=health.milestone_grace_days,
            components=tuple(components),
            **health_extras,
        ),
        roles=roles,
        sources=tuple(d.src.display_path for d in documents),
        alerts=tuple(alerts),
    )
    check_alert_owners(playbook)
    if playbook.go_live_phase and not playbook.has_phase(playbook.go_live_phase):
        raise ConfigError(f"unknown phase {playbook.go_live_phase!r}", where=meta["go_live_where"])
    for check in pending_refs:
        check(playbook)
    return _with_factors(playbook)


def _with_factors(playbook: Playbook) -> Playbook:
    """Fill in each segment's default timeline factor (duration / base_days)."""
    segments = tuple(
        s if s.timeline_factor > 0 else replace(s, timeline_factor=s.duration_days / playbook.base_days)
        for s in playbook.segments
    )
    for segment in segments:
        if segment.timeline_factor > MAX_TIMELINE_FACTOR:
            raise ConfigError(
                f"segment {segment.key!r} lasts {segment.timeline_factor:g}× the playbook's base_days "
                f"({playbook.base_days}); at most {MAX_TIMELINE_FACTOR:g}× (set timeline_factor, or raise base_days)",
                where=segment.where,
            )
    return replace(playbook, segments=segments)


def _unique(items: list[Any], what: str) -> None:
    seen: dict[str, str] = {}
    for item in items:
        if item.key in seen:
            raise ConfigError(
                f"duplicate {what} key {item.key!r} (first defined at {seen[item.key]})", where=item.where
            )
        seen[item.key] = item.where


def _read_meta(t: RuleTable) -> dict[str, Any]:
    meta = {
        "file": t.src.display_path,
        "name": t.text("name"),
        "description": t.text("description", ""),
        "version": t.text("version", ""),
        "base_days": t.integer("base_days", 30, minimum=1),
        "go_live_phase": t.opt_text("go_live_phase"),
        "go_live_where": t.src.where((*t.path, "go_live_phase")),
        "roles": t.keys("roles") or [],
    }
    t.done()
    return meta


def _read_segment(t: RuleTable) -> Segment:
    key = t.ident()
    duration = t.integer("duration_days", minimum=1)
    factor = t.number("timeline_factor", maximum=MAX_TIMELINE_FACTOR)
    if factor is not None and factor <= 0:
        raise t.src.error((*t.path, "timeline_factor"), "'timeline_factor' must be greater than 0")
    segment = Segment(
        key=key,
        label=t.text("label"),
        duration_days=duration,
        timeline_factor=factor or 0.0,
        description=t.text("description", ""),
        when=t.condition("when", SEGMENT_NAMES),
        where=t.src.where((*t.path, "key")),
    )
    t.done()
    return segment


def _read_phase(t: RuleTable, pending: list[Callable[[Playbook], None]]) -> Phase:
    key = t.ident()
    start = t.integer("plan_start_day", 0)
    end = t.integer("plan_end_day", start)
    if end < start:
        raise t.src.error((*t.path, "plan_end_day"), "'plan_end_day' is before 'plan_start_day'")
    phase = Phase(
        key=key,
        label=t.text("label"),
        description=t.text("description", ""),
        plan_start_day=start,
        plan_end_day=end,
        exit_when=t.condition("exit_when", RULE_NAMES),
        extend_when=t.condition("extend_when", RULE_NAMES),
        tasks=tuple(_read_task(task, key, pending) for task in t.tables("tasks")),
        decisions=tuple(_read_decision(d, key, pending) for d in t.tables("decisions")),
        where=t.src.where((*t.path, "key")),
    )
    t.done()
    return phase


def _read_decision(t: RuleTable, phase: str, pending: list[Callable[[Playbook], None]]) -> Decision:
    """``[[phases.decisions]]``: key, label, when (CEL, required), goto (a later phase)."""
    key = t.ident()
    goto = t.text("goto")
    goto_where = t.src.where((*t.path, "goto"))
    when = t.condition("when", RULE_NAMES)
    if when is None:
        raise t.typo_of("when") or t.src.error(t.path, "missing required key 'when'")
    decision = Decision(key=key, label=t.text("label", key), when=when, goto=goto, where=t.src.where((*t.path, "key")))
    t.done()

    def check(playbook: Playbook) -> None:
        if not playbook.has_phase(goto):
            raise ConfigError(f"unknown phase {goto!r}", where=goto_where)
        if playbook.phase_index(goto) <= playbook.phase_index(phase):
            raise ConfigError(
                f"decision {key!r} of phase {phase!r} must go to a later phase, not {goto!r}", where=goto_where
            )

    pending.append(check)
    return decision


def _read_task(t: RuleTable, phase: str, pending: list[Callable[[Playbook], None]]) -> TaskTemplate:
    key = t.ident()
    owner = t.text("owner")
    owner_where = t.src.where((*t.path, "owner"))
    priority = t.text("priority", "MEDIUM").upper()
    if priority not in PRIORITIES:
        raise t.src.error((*t.path, "priority"), f"'priority' must be one of {', '.join(PRIORITIES)}")
    due_day, due_hours = t.number("due_day", maximum=MAX_DAYS), t.number("due_hours", maximum=MAX_DAYS * 24)
    if (due_day is None) == (due_hours is None):
        raise t.typo_of("due_day", "due_hours") or t.src.error(
            t.path, "a task needs exactly one of 'due_day' or 'due_hours'"
        )
    if (due_day or 0) < 0 or (due_hours or 0) < 0:
        raise t.src.error((*t.path, "due_day" if due_day is not None else "due_hours"), "due offsets must be >= 0")
    every = t.integer("repeat_every_days", 0, minimum=1) or None
    until = t.integer("repeat_until_day", 0) or None
    if (every is None) != (until is None):
        raise t.typo_of("repeat_every_days", "repeat_until_day") or t.src.error(
            t.path, "'repeat_every_days' and 'repeat_until_day' go together"
        )
    anchor = t.text("anchor", "start")
    if anchor not in ("start", "phase"):
        raise t.src.error((*t.path, "anchor"), "'anchor' must be 'start' or 'phase'")
    segments = t.keys("segments")
    segments_where = t.src.where((*t.path, "segments"))
    title, body = t.template("title"), t.template("body", "")
    for name, text in (("title", title), ("body", body)):
        if "episode" in text.names and every is None:
            raise t.src.error((*t.path, name), "{episode} is only filled in a repeated task (repeat_every_days)")
    template = TaskTemplate(
        key=key,
        phase=phase,
        title=title,
        body=body,
        owner=owner,
        priority=priority,
        required=t.flag("required", True),
        due_day=due_day,
        due_hours=due_hours,
        scale=t.flag("scale", due_hours is None),
        anchor=anchor,
        when=t.condition("when", RULE_NAMES),
        segments=frozenset(segments) if segments is not None else None,
        repeat_every_days=every,
        repeat_until_day=until,
        milestone=t.flag("milestone", False),
        blocker=t.flag("blocker", False),
        first_value=t.flag("first_value", False),
        where=t.src.where((*t.path, "key")),
    )
    t.done()

    def check(playbook: Playbook) -> None:
        if owner not in playbook.roles:
            known = ", ".join(sorted(playbook.roles))
            raise ConfigError(
                f"unknown owner role {owner!r} (known: {known}; add more in [playbook].roles)",
                where=owner_where,
            )
        for segment in segments or ():
            if playbook.segment(segment) is None:
                raise ConfigError(f"unknown segment {segment!r}", where=segments_where)

    pending.append(check)
    return template


def _read_health(t: RuleTable) -> HealthModel:
    healthy = t.integer("healthy_min", 80)
    at_risk = t.integer("at_risk_min", 50)
    if not 0 <= at_risk <= healthy <= 100:
        raise t.src.error((*t.path, "at_risk_min"), "need 0 <= at_risk_min <= healthy_min <= 100")
    statuses = t.keys("at_risk_statuses")
    if statuses is not None and not set(statuses) <= {"at-risk", "critical"}:
        raise t.src.error((*t.path, "at_risk_statuses"), "'at_risk_statuses' may list 'at-risk' and 'critical'")
    return HealthModel(
        healthy_min=healthy,
        at_risk_min=at_risk,
        at_risk_statuses=frozenset(statuses) if statuses is not None else frozenset({"at-risk", "critical"}),
        blocker_days=t.integer("blocker_days", 3),
        milestone_grace_days=t.integer("milestone_grace_days", 7),
    )


def _read_component(t: RuleTable) -> HealthComponent:
    key = t.ident()
    weight = t.number("weight", maximum=MAX_WEIGHT)
    if weight is None or weight <= 0:
        raise (t.typo_of("weight") if weight is None else None) or t.src.error(
            (*t.path, "weight"), "'weight' is required and must be greater than 0"
        )
    metric = t.opt_text("metric")
    if metric is not None and metric not in METRICS:
        raise t.src.error((*t.path, "metric"), f"unknown metric {metric!r} (known: {', '.join(sorted(METRICS))})")
    bounds = {k: t.number(k) for k in ("min", "max", "above", "below")}
    ok_when = t.condition("ok_when", RULE_NAMES)
    if (metric is None) == (ok_when is None):
        raise t.typo_of("metric", "ok_when") or t.src.error(
            t.path, "a health component needs exactly one of 'metric' or 'ok_when'"
        )
    if metric is not None and all(v is None for v in bounds.values()):
        raise t.typo_of(*bounds) or t.src.error(
            (*t.path, "metric"), "a metric component needs 'min', 'max', 'above' or 'below'"
        )
    if ok_when is not None and any(v is not None for v in bounds.values()):
        raise t.src.error(t.path, "'min'/'max'/'above'/'below' only apply to a 'metric' component")
    cap = t.opt_text("cap")
    if cap is not None and cap not in ("at-risk", "critical"):
        raise t.src.error((*t.path, "cap"), "'cap' must be 'at-risk' or 'critical'")
    reason = t.template("reason", allowed=frozenset({"value"}))
    if "value" in reason.names and metric is None:
        raise t.src.error((*t.path, "reason"), "{value} needs a 'metric' (an 'ok_when' component has no value)")
    component = HealthComponent(
        key=key,
        weight=weight,
        reason=reason,
        metric=metric,
        ok_when=ok_when,
        applies_when=t.condition("applies_when", RULE_NAMES),
        after_go_live=t.flag("after_go_live", False),
        cap=cap,
        where=t.src.where((*t.path, "key")),
        **bounds,
    )
    t.done()
    return component
