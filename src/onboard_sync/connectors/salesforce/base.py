"""Plumbing shared by the Salesforce connector's methods: session, login, queries, collections, describe.

:class:`SalesforceBase` holds one ``requests`` session (``trust_env = False``: requests ignores
``session.verify`` when REQUESTS_CA_BUNDLE is set) and a simple-salesforce client built from the token
of :func:`.auth.login`, shared by the instance's connectors (``Connector.shared``). Every API call
goes through the core's ``call``; on a 401 ``INVALID_SESSION_ID`` the gate's renewal
(``renew_credentials``) logs in once more and the call is sent again. ``Sforce-Limit-Info`` is kept
after every call (``api_usage``).
:class:`.connector.SalesforceConnector` builds the contract methods on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote_plus

from onboard_sync.connector import ApiCaller, Connector, ConnectorSettings, WriteResult
from onboard_sync.connectors.salesforce import auth
from onboard_sync.connectors.salesforce.errors import NO_SUCH_COLUMN, RETRYABLE_CODES, classify, error_code
from onboard_sync.connectors.salesforce.settings import SalesforceSettings
from onboard_sync.errors import ApiError
from onboard_sync.records import Account
from onboard_sync.toolkit.http_errors import status_of as status_of  # re-exported: .connector imports it from here

if TYPE_CHECKING:  # requests and simple-salesforce load when a connector is built, not with the plugin
    from simple_salesforce import Salesforce

R = TypeVar("R")
Rec = dict[str, Any]
QUERY_BUDGET = 10_000
"""Bytes of URL-encoded SOQL a query by id may take. simple-salesforce sends queries by GET, and
Salesforce answers 414 when a URI passes 16,384 bytes (431 when URI and headers together do):
200 Opportunity ids take about 5,600 bytes, 200 task keys about twice that."""


def id_chunks(head: str, ids: Sequence[str], size: int, budget: int = QUERY_BUDGET) -> Iterator[list[str]]:
    """``ids`` in runs of at most ``size`` whose ``head IN ('…', …)`` query stays within ``budget`` encoded bytes."""
    from simple_salesforce import format_soql

    base = len(quote_plus(head)) + len(quote_plus(" IN ()"))
    chunk: list[str] = []
    used = base
    for item in ids:
        cost = len(quote_plus(format_soql("{}", item) + ", "))
        if chunk and (len(chunk) >= size or used + cost > budget):
            yield chunk
            chunk, used = [], base
        chunk.append(item)
        used += cost
    if chunk:
        yield chunk


def record_results(keys: Sequence[str], answer: Any) -> list[WriteResult]:
    """sObject Collections answers (one per record, in request order) as ``WriteResult`` s."""
    rows = list(answer or ())
    out: list[WriteResult] = []
    for index, key in enumerate(keys):
        row = rows[index] if index < len(rows) else None
        if not isinstance(row, Mapping):
            out.append(WriteResult(key, ok=False, error="Salesforce returned no result for this record"))
        elif row.get("success"):
            out.append(WriteResult(key, ok=True, remote_id=str(row.get("id"))))
        else:
            errors = [e for e in row.get("errors") or () if isinstance(e, Mapping)]
            codes = [str(e.get("statusCode") or "") for e in errors]
            text = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors) or "refused"
            fields = sorted({f for e in errors for f in e.get("fields") or ()})
            if fields:
                text += f" (fields: {', '.join(fields)})"
            unknown = [
                name
                for e in errors
                if e.get("statusCode") == "INVALID_FIELD"
                for name in NO_SUCH_COLUMN.findall(str(e.get("message") or "")) or e.get("fields") or ()
            ]
            out.append(
                WriteResult(
                    key,
                    ok=False,
                    error=text,
                    retryable=any(c in RETRYABLE_CODES for c in codes),
                    unknown_properties=tuple(dict.fromkeys(unknown)),
                )
            )
    return out


class SalesforceBase(Connector):
    """Session, login and the call helpers of the Salesforce connector."""

    def __init__(self, instance: str, settings: ConnectorSettings, secrets: Mapping[str, str], call: ApiCaller) -> None:
        super().__init__(instance, settings, secrets, call)
        self.settings: SalesforceSettings = cast(SalesforceSettings, settings)
        self.where = f"connectors.{instance}"
        s = self.settings
        import requests

        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = s.ca_bundle if (s.ca_bundle and s.verify) else s.verify
        self._timeout = (s.timeout_seconds, s.timeout_seconds)
        self._sf: Salesforce | None = None
        self._tried = threading.local()
        """Per thread, the session id of the last call sent: the stale one if that call is refused (the
        engine calls from several threads, and another may have renewed the session meanwhile)."""
        self.logins = 0
        self.usage: tuple[int, int] | None = None
        self._accounts_read: dict[tuple[str, tuple[str, ...]], Account] = {}
        """Accounts ``read_deals_by_id`` read as parent fields, by (id, extra columns), for ``read_accounts``."""

    @property
    def describe_cache(self) -> dict[str, Rec]:
        """describe() answers by sObject, shared by the instance's connectors (``Connector.shared``): a
        ``serve`` worker describes each object once, not in every reconcile. ``describe()`` (the run-start
        check, every ten minutes in ``serve``) and a write refused for an unknown field read it afresh."""
        cache: dict[str, Rec] = self.shared.setdefault("describes", {})
        return cache

    def _secret_values(self) -> tuple[str, ...]:
        s = self.settings
        names = (s.client_secret_env, s.password_env, s.private_key_env)
        found = [self.secrets.get(n) for n in names]
        if self._sf is not None:
            found.append(self._sf.session_id)
        return tuple(v for v in found if v)

    # --- login and calls -------------------------------------------------------------------------
    def _login(self, *, stale: str | None = None, fresh: bool = False) -> Salesforce:
        """A client on the instance's shared session (``Connector.shared``): the deal pull, the Case
        pull and every ``serve`` reconcile use one login until Salesforce expires it. A new login
        happens when there is none, when ``fresh`` (check_auth), or when the shared session is the
        ``stale`` one a call was refused with (another connector may have renewed it already)."""
        lock = self.shared.setdefault("session_lock", threading.Lock())
        with lock:
            current: tuple[str, str] | None = self.shared.get("session")
            if current is None or fresh or current[0] == stale:
                current = self.call(
                    "oauth.token", lambda: auth.login(self.settings, self.secrets, self.session, self.where)
                )
                self.logins += 1
                self.shared["session"] = current
        token, instance = current
        from simple_salesforce import Salesforce

        self._sf = Salesforce(
            instance_url=f"https://{instance}",
            session_id=token,
            session=self.session,
            version=self.settings.api_version,
        )
        return self._sf

    def _client(self) -> Salesforce:
        return self._sf or self._login()

    def _call(self, endpoint: str, fn: Callable[[Salesforce], R], *, write: bool = False) -> R:
        """``self.call`` with a live session (on a 401 the gate calls ``renew_credentials``)."""
        self._client()

        def run() -> R:
            sf = self._sf
            assert sf is not None
            self._tried.session = sf.session_id
            try:
                return fn(sf)
            finally:
                usage = (sf.api_usage or {}).get("api-usage")
                if usage is not None:
                    self.usage = (int(usage.used), int(usage.total))

        return self.call(endpoint, run, write=write)

    def renew_credentials(self, error: BaseException) -> bool:
        """A 401 ``INVALID_SESSION_ID``: log in again (once per expired session, shared by the instance:
        calls refused together on one session, from several threads, renew it once)."""
        if error_code(error) not in ("INVALID_SESSION_ID", ""):
            return False
        stale = getattr(self._tried, "session", None) or (self._sf.session_id if self._sf else None)
        self._login(stale=stale)
        return True

    def classify_error(self, exc: BaseException) -> ApiError | None:
        """See :func:`onboard_sync.connectors.salesforce.errors.classify`."""
        return classify(exc, self._secret_values())

    def api_usage(self) -> dict[str, object] | None:
        """The org's API usage from the last ``Sforce-Limit-Info`` header, and the logins this run."""
        if self.usage is None:
            return None
        used, limit = self.usage
        return {"source": "Sforce-Limit-Info", "used": used, "limit": limit, "logins": self.logins}

    # --- queries ---------------------------------------------------------------------------------
    def _query_page(self, endpoint: str, soql: str | None, token: str | None) -> tuple[list[Rec], str | None]:
        """One page: the first of ``soql``, or the one at ``token`` (a nextRecordsUrl)."""
        headers = {"Sforce-Query-Options": f"batchSize={self.settings.query_batch_size}"}
        if token:
            answer = self._call(
                endpoint, lambda sf: sf.query_more(token, identifier_is_url=True, timeout=self._timeout)
            )
        else:
            answer = self._call(endpoint, lambda sf: sf.query(soql, headers=headers, timeout=self._timeout))
        records = [dict(r) for r in answer.get("records") or ()]
        nxt = None if answer.get("done", True) else answer.get("nextRecordsUrl")
        return records, (str(nxt) if nxt else None)

    def _query_all(self, endpoint: str, soql: str) -> list[Rec]:
        return self._drain(endpoint, *self._query_page(endpoint, soql, None))

    def _drain(self, endpoint: str, records: list[Rec], token: str | None) -> list[Rec]:
        """``records`` and every page after them from ``token`` (a query's, or a nested subquery result's)."""
        seen: set[str] = set()
        while token and token not in seen:
            seen.add(token)
            more, token = self._query_page(endpoint, None, token)
            records = records + more
        return records

    def _by_ids(
        self, endpoint: str, sobject: str, fields: Sequence[str], ids: Sequence[str], id_field: str = "Id"
    ) -> list[Rec]:
        """Records whose ``id_field`` is in ``ids``: ``max_read_batch`` ids a query (fewer when the URI would grow)."""
        from simple_salesforce import format_soql

        out: list[Rec] = []
        unique = list(dict.fromkeys(i for i in ids if i))
        head = f"SELECT {', '.join(dict.fromkeys(fields))} FROM {sobject} WHERE {id_field}"
        for chunk in id_chunks(head, unique, self.max_read_batch):
            out += self._query_all(endpoint, format_soql(f"{head} IN {{}}", chunk))
        return out

    # --- collections and describe ----------------------------------------------------------------
    def _collection(self, endpoint: str, method: str, path: str, records: list[Rec]) -> Any:
        body = {"allOrNone": False, "records": records}
        return self._call(
            endpoint, lambda sf: sf.restful(path, method=method, json=body, timeout=self._timeout), write=True
        )

    def _describe(self, sobject: str) -> Rec:
        if sobject not in self.describe_cache:
            self.describe_cache[sobject] = dict(
                self._call(
                    f"{sobject.lower()}.describe",
                    lambda sf: sf.restful(f"sobjects/{sobject}/describe", timeout=self._timeout),
                )
            )
        return self.describe_cache[sobject]

    def _field_defs(self, sobject: str) -> dict[str, Rec]:
        return {str(f["name"]): dict(f) for f in self._describe(sobject).get("fields") or ()}

    def check_auth(self) -> str:
        """One login and one cheap query."""
        self._login(fresh=True)
        self._call("users.query", lambda sf: sf.query("SELECT Id FROM User LIMIT 1", timeout=self._timeout))
        assert self._sf is not None
        return f"Salesforce org at https://{self._sf.sf_instance} ({self.settings.auth} login accepted)"

    def close(self) -> None:
        self.session.close()
