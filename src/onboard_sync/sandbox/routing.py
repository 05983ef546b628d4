"""The URL table of a simulator: path templates with ``{named}`` parts, matched to handlers.

Each vendor's ``routes.py`` lists its :class:`Route` rows in a :class:`RouteTable`; the
:class:`~onboard_sync.sandbox.middleware.Routing` stage matches every request against it. A route
also declares what the shared middleware does to it: whether it needs a credential (``auth``),
which named rate-limit policies it counts against (``limits``) and whether armed faults may hit
it (``faults``). The request log records a route's template, not the raw path, so tests can count
``"POST /crm/v3/objects/tasks/batch/create"`` whatever the ids were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Route:
    """One row of a URL table: ``Route("GET", "/v1/deals/{id}", get_deal)``.

    ``handler`` is whatever the vendor's app calls (see ``SimulatorApp(respond=...)``); ``auth``:
    the authentication hook runs first; ``limits``: names of the rate-limit policies counted, in
    order; ``faults``: armed faults may fail this route (a login endpoint may opt out).
    """

    method: str
    pattern: str
    handler: Callable[..., Any]
    auth: bool = True
    limits: tuple[str, ...] = ()
    faults: bool = True


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A matched route, its path parameters and the template the request log records."""

    route: Route
    params: dict[str, str]
    template: str


class RouteTable:
    """Routes matched in order, first match wins.

    ``segment`` is the regex one ``{name}`` matches (Zendesk's stops at dots, for ``.json``);
    ``suffix`` what may follow a path (default an optional slash); ``macros`` replaces
    ``{NAME}`` parts by a regex before compiling (Salesforce's versioned ``{P}`` prefix; its groups
    are path parameters too, but stay ``{NAME}`` in templates); ``keep`` names the parameters whose values the
    request-log template keeps (HubSpot's object types), the others stay ``{placeholders}``.
    """

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        segment: str = r"[^/]+",
        suffix: str = r"/?",
        macros: Mapping[str, str] | None = None,
        keep: Iterable[str] = (),
    ) -> None:
        self.routes = list(routes)
        self.keep = frozenset(keep)
        self._macros = dict(macros or {})
        self._compiled = [(route, self._compile(route.pattern, segment, suffix)) for route in self.routes]

    def _compile(self, pattern: str, segment: str, suffix: str) -> re.Pattern[str]:
        marked = pattern.rstrip("/") if pattern != "/" else pattern
        for name in self._macros:
            marked = marked.replace(f"{{{name}}}", f"\0{name}\0")
        body = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{segment})", marked)
        for name, regex in self._macros.items():
            body = body.replace(f"\0{name}\0", regex)
        return re.compile(f"^{body}{suffix}$")

    def match(self, method: str, path: str) -> tuple[RouteMatch | None, bool]:
        """(the match for ``method`` and ``path``, or None; whether the path exists for another method)."""
        elsewhere = False
        for route, regex in self._compiled:
            found = regex.match(path)
            if found is None:
                continue
            if route.method != method:
                elsewhere = True
                continue
            params = found.groupdict()
            return RouteMatch(route, params, self.template(route, params)), True
        return None, elsewhere

    def template(self, route: Route, params: Mapping[str, str]) -> str:
        """``route.pattern`` with the ``keep`` parameters filled in."""
        out = route.pattern
        for name in self.keep & params.keys():
            out = out.replace(f"{{{name}}}", params[name])
        return out


__all__ = ["Route", "RouteMatch", "RouteTable"]
