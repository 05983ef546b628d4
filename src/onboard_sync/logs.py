"""Logging set-up for people (text) and for log collectors (JSON lines), with secrets scrubbed.

``setup_logging()`` is called by the CLI (``cli.logging_options``) and by serve's worker process.
Format: ``--log-format text|json`` or ``ONBOARD_SYNC_LOG_FORMAT``; level: ``--log-level`` or
``ONBOARD_SYNC_LOG_LEVEL`` (default WARNING for text, which cron mails; INFO for JSON, which a
collector reads). Every line goes to stderr; a JSON line is one object:
``{"time", "level", "logger", "message", "event", ...fields}``.

``log_run`` (called by ``sync`` and ``plan``) and ``log_reconcile`` (serve's worker) write the one
INFO line per run and per webhook reconcile. ``protect`` registers secret values (the runtime
registers the values of every ``*_env`` variable its config names, and the store password);
both formatters replace them with ``***`` in everything they write, tracebacks included.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onboard_sync.sync.report import RunReport

FORMAT_ENV = "ONBOARD_SYNC_LOG_FORMAT"
LEVEL_ENV = "ONBOARD_SYNC_LOG_LEVEL"
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MIN_SECRET_LENGTH = 4
"""Shorter values are not scrubbed: replacing every "abc" in the logs would hide more than it protects."""

log = logging.getLogger("onboard_sync.run")
_secrets: set[str] = set()


def protect(values: Iterable[str | None]) -> None:
    """Never write these values: both formatters replace them with ``***``."""
    _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)


def scrub(text: str) -> str:
    """``text`` with every protected value replaced by ``***`` (longest first)."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: MESSAGE`` (and the traceback), scrubbed."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),  # before JSON escapes a secret's quotes or backslashes
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


_HANDLER_MARK = "_onboard_sync_handler"


def setup_logging(log_format: str | None = None, level: str | None = None) -> None:
    """(Re)configure the root logger's stderr handler. An option given here is also put in the
    environment, so serve's worker process logs the same way. A bad value is named on stderr and
    the default used: logging must never stop a run."""
    chosen = (log_format or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if chosen not in FORMATS:
        _warn(f"ignoring log format {chosen!r} ({'--log-format' if log_format else FORMAT_ENV}): use text or json")
        chosen = "text"
    if log_format:
        os.environ[FORMAT_ENV] = chosen
    if level:
        os.environ[LEVEL_ENV] = level
    wanted = (level or os.environ.get(LEVEL_ENV) or ("INFO" if chosen == "json" else "WARNING")).strip().upper()
    number = logging.getLevelNamesMapping().get(wanted)
    if not isinstance(number, int):
        _warn(f"ignoring log level {wanted!r}: use DEBUG, INFO, WARNING or ERROR")
        number = logging.WARNING
    # INFO is onboard-sync's own lines; the libraries' INFO (alembic's plugins, HTTP clients) only with DEBUG
    logging.getLogger("onboard_sync").setLevel(number)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(number if number <= logging.DEBUG else max(number, logging.WARNING))


def _warn(message: str) -> None:
    print(f"onboard-sync: {message}", file=sys.stderr, flush=True)


def run_fields(report: RunReport) -> dict[str, Any]:
    """What a run line carries: per connector instance its counts, API calls and error."""
    connectors = {
        name: {
            "deals_pulled": inst.deals_pulled,
            "onboardings_evaluated": inst.onboardings_evaluated,
            "started": inst.started,
            "transitions": inst.transitions,
            "created": inst.writes_created,
            "updated": inst.writes_updated,
            "failed": inst.writes_failed,
            "api_calls": inst.api_calls.get("total", 0),
            "error": inst.error,
        }
        for name, inst in report.instances.items()
    }
    for name, source in report.ticket_sources.items():
        entry = connectors.setdefault(name, {})
        entry["tickets_pulled"] = source.get("tickets_pulled", 0)
        entry["ticket_api_calls"] = source.get("api_calls", {}).get("total", 0)
        if source.get("error"):
            entry["ticket_error"] = source["error"]
    finished = report.finished_at or datetime.now(UTC)
    return {
        "run_id": report.run_id,
        "duration_s": round((finished - report.started_at).total_seconds(), 3),
        "writes": report.totals(),
        "api_calls": report.api_calls()["total"],
        "connectors": connectors,
    }


def _summary(fields: Mapping[str, Any]) -> str:
    parts = []
    for name, c in fields.get("connectors", {}).items():
        counts = (
            f"{c.get('deals_pulled', 0)} deal(s) pulled, {c.get('onboardings_evaluated', 0)} evaluated, "
            f"{c.get('created', 0)} created, {c.get('updated', 0)} updated, {c.get('failed', 0)} failed"
        )
        if "tickets_pulled" in c:
            counts += f", {c['tickets_pulled']} ticket(s) pulled"
        error = c.get("error") or c.get("ticket_error")
        parts.append(f"{name}: {counts}" + (f" (error: {error})" if error else ""))
    return "; ".join(parts)


def log_run(command: str, report: RunReport | None, exit_code: int, error: str | None = None) -> None:
    """The INFO line of one ``sync`` or ``plan``: status, exit code, duration, API calls, per-connector counts."""
    fields: dict[str, Any] = {"event": f"{command}.finished", "command": command, "exit_code": exit_code}
    fields["status"] = "ok" if exit_code == 0 else "failed" if exit_code == 1 else "error"
    if report is not None:
        fields.update(run_fields(report))
    if error:
        fields["error"] = error
    head = f"{command} {fields['status']} (exit {exit_code})"
    if report is not None:
        head += f" in {fields['duration_s']:.1f} s, {fields['api_calls']} API call(s)"
    detail = _summary(fields) or error or ""
    log.info("%s%s", head, f": {detail}" if detail else "", extra={"fields": fields})


def log_reconcile(
    kind: str,
    outcome: str,
    duration_s: float,
    report: RunReport | None = None,
    deals: int | None = None,
    *,
    instance: str | None = None,
) -> None:
    """The INFO line of one webhook-driven reconcile of serve's worker (``kind``: webhook, incremental,
    follow-up, full; ``outcome``: ok, write-failures, lock-held, error), or with ``instance`` of one
    queued reconcile of the durable engine (``kind``: its trigger; ``outcome`` also nothing-new)."""
    fields: dict[str, Any] = {"event": "engine.reconcile" if instance else "webhook.reconcile", "kind": kind}
    if instance:
        fields["instance"] = instance
    fields["outcome"] = outcome
    if deals is not None:
        fields["deals"] = deals
    if report is not None:
        fields.update(run_fields(report))
    fields["duration_s"] = round(duration_s, 3)
    what = f"{kind} reconcile {outcome} in {duration_s:.1f} s" + (f" ({deals} deal(s))" if deals is not None else "")
    if instance:
        what = f"{instance}: {what}"
    detail = _summary(fields)
    logger = "onboard_sync.durable" if instance else "onboard_sync.webhooks.worker"
    logging.getLogger(logger).info("%s%s", what, f": {detail}" if detail else "", extra={"fields": fields})
