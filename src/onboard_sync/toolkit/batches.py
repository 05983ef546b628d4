"""By-id reads and writes with one ``WriteResult`` per record, as the core's contract asks.

* :func:`read_by_ids`: ids deduplicated and sliced to the vendor's batch size, one read per slice,
  the records back in the order asked with missing ids left out (the core takes those as deleted);
* :func:`results_in_order`: a batch endpoint's per-record answers (aligned with the inputs) as
  ``WriteResult`` s, a record without an answer failed, the properties a refused record names as
  unknown carried in ``unknown_properties`` (the core sends it again without them);
* :func:`results_by_id`: the same for answers keyed by record id (Zendesk's job results);
* :func:`write_each`: per-record writes for APIs without a batch endpoint: a record the vendor
  refuses fails alone (with the properties of an ``UnknownPropertiesError``), an outage stops the
  batch with the rest marked unsent (retried next run);
* :func:`task_text`, :func:`patch_text`: a ``TaskWrite`` / a ``TaskPatch``'s changes as JSON text.

Connectors built on :mod:`onboard_sync.toolkit` call them from ``read_*``, ``create_tasks``,
``update_tasks`` and ``write_fields``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from onboard_sync.connector import TaskWrite, WriteResult
from onboard_sync.errors import ApiError, RateLimitExhausted, UnknownPropertiesError

T = TypeVar("T")
W = TypeVar("W")


def read_by_ids(
    ids: Sequence[str], size: int, read: Callable[[list[str]], Iterable[T]], id_of: Callable[[T], str]
) -> list[T]:
    """Records of ``ids`` read ``size`` at a time by ``read(slice)``, in the order asked, missing ones left out."""
    unique = list(dict.fromkeys(i for i in ids if i))
    found: dict[str, T] = {}
    for start in range(0, len(unique), max(1, size)):
        for record in read(unique[start : start + size]):
            found.setdefault(id_of(record), record)
    return [found[i] for i in unique if i in found]


def results_in_order(
    keys: Sequence[str],
    answers: Sequence[Mapping[str, Any]],
    *,
    remote_id: Callable[[Mapping[str, Any]], str | None] = lambda a: None if a.get("id") is None else str(a["id"]),
    error: Callable[[Mapping[str, Any]], str | None] = lambda a: None if "id" in a else str(a.get("error") or a),
    unknown: Callable[[Mapping[str, Any]], Iterable[str]] = lambda a: (),
) -> list[WriteResult]:
    """One result per key from per-record ``answers`` in input order: ``error(answer)`` None means success;
    ``unknown(answer)``: the properties a refused field write names as not existing (deleted mid-run)."""
    out = []
    for index, key in enumerate(keys):
        answer = answers[index] if index < len(answers) else None
        if not isinstance(answer, Mapping):
            out.append(WriteResult(key, ok=False, error="the vendor returned no result for this record"))
            continue
        problem = error(answer)
        missing = () if problem is None else tuple(unknown(answer))
        out.append(WriteResult(key, problem is None, remote_id(answer), problem, unknown_properties=missing))
    return out


def results_by_id(
    writes: Sequence[tuple[str, str]],
    answers: Iterable[Mapping[str, Any]],
    ok: Callable[[Mapping[str, Any]], bool],
    error: Callable[[Mapping[str, Any]], str],
    unknown: Callable[[Mapping[str, Any]], Iterable[str]] = lambda a: (),
) -> list[WriteResult]:
    """One result per ``(key, remote id)`` in order from answers that name their record by ``id``
    (``unknown`` as for :func:`results_in_order`)."""
    by_id = {str(a.get("id")): a for a in answers}
    out = []
    for key, remote_id in writes:
        answer = by_id.get(remote_id)
        if answer is None:
            out.append(WriteResult(key, ok=False, remote_id=remote_id, error="the vendor returned no result"))
        else:
            good = ok(answer)
            problem, missing = (None, ()) if good else (error(answer), tuple(unknown(answer)))
            out.append(WriteResult(key, good, remote_id, problem, unknown_properties=missing))
    return out


def task_text(write: TaskWrite) -> dict[str, str | None]:
    """A ``TaskWrite``'s own fields as JSON text under their own names (``subject``, ``body``,
    ``due_at``, ``status``, ``priority``, ``owner_id``): rename what your vendor calls otherwise."""
    return patch_text(
        {
            "subject": write.subject,
            "body": write.body,
            "due_at": write.due_at,
            "status": write.status,
            "priority": write.priority,
            "owner_id": write.owner_id,
        }
    )


def patch_text(changes: Mapping[str, object]) -> dict[str, str | None]:
    """A ``TaskPatch``'s changes as the text a JSON API stores: ISO-8601 for times, an enum's value,
    ``None`` to clear."""
    out: dict[str, str | None] = {}
    for name, value in changes.items():
        if isinstance(value, datetime):
            out[name] = value.isoformat()
        elif isinstance(value, enum.Enum):
            out[name] = str(value.value)
        else:
            out[name] = None if value is None else str(value)
    return out


def write_each(batch: Sequence[W], key: Callable[[W], str], send: Callable[[W], str | None]) -> list[WriteResult]:
    """``send`` each record (one gated call each; it returns the remote id). A record the vendor refuses
    (a non-retryable ``ApiError``) fails alone, naming the properties of an ``UnknownPropertiesError``
    in ``unknown_properties``; one that still fails after the gate's retries stops the
    batch, and the records not sent fail with the same reason (the next run sends them again). A
    used-up quota, refused credentials and bugs propagate."""
    out: list[WriteResult] = []
    for index, item in enumerate(batch):
        try:
            out.append(WriteResult(key(item), ok=True, remote_id=send(item)))
        except RateLimitExhausted:
            raise
        except ApiError as exc:
            missing = exc.properties if isinstance(exc, UnknownPropertiesError) else ()
            out.append(
                WriteResult(key(item), False, error=str(exc), retryable=exc.retryable, unknown_properties=missing)
            )
            if exc.retryable:
                reason = f"not sent: an earlier record failed ({exc})"
                out += [WriteResult(key(rest), ok=False, error=reason, retryable=True) for rest in batch[index + 1 :]]
                break
    return out


__all__ = ["patch_text", "read_by_ids", "results_by_id", "results_in_order", "task_text", "write_each"]
