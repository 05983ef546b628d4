"""The connector contract: what a CRM or helpdesk plugin implements, and what the core gives it.

A connector is small (see docs/writing-a-connector.md). It declares its settings model
and capabilities and implements the few methods only it can: reading a page, reading a
batch by id, writing a batch, describing its schema. Everything generic lives in the core:

* **API calls** go through the ``call`` function the core injects
  (``self.call("deals.search", lambda: ...)``). The core applies the per-portal token
  bucket, retries with backoff that honour ``Retry-After``, counts calls per endpoint
  and, in ``plan`` mode, refuses anything flagged ``write=True``. The connector's
  ``classify_error`` tells the core what an exception from its SDK means.
* **Paging**: the core loops ``read_*`` pages until ``next_token`` is ``None``. A deal page may carry
  the accounts its calls already returned (``Page.accounts``); the core reads the others by id.
* **Batching**: the core slices writes into ``max_write_batch``-sized batches.
* **Cursors and idempotency**: the core stores cursors and write keys; the connector
  only has to store the key on the record (``TaskWrite.key``) and find tasks by key.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onboard_sync.errors import ApiError
from onboard_sync.records import Account, Contact, Deal, ObjectKind, Owner, Task, TaskStatus, Ticket

T = TypeVar("T")
R = TypeVar("R")


class Capability(enum.StrEnum):
    """What a connector type can do; the engine picks connectors for a job by capability."""

    DEAL_SOURCE = "deal-source"
    TASK_SINK = "task-sink"
    FIELD_SINK = "field-sink"
    TICKET_SOURCE = "ticket-source"
    WEBHOOK_RECEIVER = "webhook-receiver"


class ApiCaller(Protocol):
    """The core's call wrapper handed to every connector (rate limit, retries, accounting)."""

    def __call__(self, endpoint: str, fn: Callable[[], R], *, write: bool = False, limit: str | None = None) -> R:
        """Call ``fn`` (one API request) as ``endpoint``. With ``limit`` the request counts against
        that named limit of ``extra_rate_limits()`` instead of ``rate_limit()`` (HubSpot search), or
        as well as it when the named limit says ``counts_toward_main`` (Zendesk exports)."""
        ...

    def wait(self, seconds: float) -> None:
        """Sleep on the gate's clock (polling a vendor's job; simulated in tests)."""
        ...

    def monotonic(self) -> float:
        """The gate's clock, in seconds (for deadlines that ``wait`` moves)."""
        ...


PLACEHOLDER = "REPLACE"
"""Starter tables (``starter_config``) begin each value a person must fill in with this word; a
setting that still does is refused by the offline checks (``checks.config.placeholder_problems``)."""


class ConnectorSettings(BaseModel):
    """Base of every connector's settings model (one ``[connectors.NAME]`` table in config.toml).

    Unknown keys are errors, so a typo in config.toml is reported with its key path, and so are
    ``nan`` and ``inf`` (TOML allows them) in every number field of a subclass.
    Secrets are never settings: a settings model names the *environment variable* that
    holds a secret (e.g. ``token_env = "HUBSPOT_TOKEN"``) and the connector reads it
    from the ``secrets`` mapping it is given. A subclass's validator is built when it first
    validates (``defer_build``): every installed connector type is imported to be looked up, and
    building the models of the types a config does not use cost each command's start ~10 ms.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    type: str
    requests_per_second: float | None = Field(None, gt=0, le=10_000)
    """Override of the connector's default rate (requests per second) for this instance."""
    schedule: str | None = None
    """A cron expression (five fields, UTC, e.g. ``"*/15 * * * *"``): when ``onboard-sync worker``
    reconciles this instance (a schedule stored in the database, run once per tick across workers)."""

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from onboard_sync.cron import check_cron

        return check_cron(value)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``.

    With ``window`` (seconds) it is a rolling window instead, as HubSpot's: at most ``burst``
    requests in any ``window`` seconds (``per_second`` is then the average, ``burst / window``).
    """

    per_second: float
    burst: int
    window: float | None = None
    counts_toward_main: bool = False
    """For a named limit (``extra_rate_limits``): its calls also take a turn of the instance's main
    limit (Zendesk's incremental exports count toward the account's limit too). False: they count
    against the named limit only (HubSpot's search is exempt from the ten-secondly bucket)."""

    @classmethod
    def at(cls, per_second: float, *, window: float | None = None) -> RateLimit:
        """``per_second`` as a token bucket (burst: one second's worth), or, with ``window``, as a
        rolling window of ``per_second × window`` calls (at least one; then the window widens so the
        average stays ``per_second``)."""
        if per_second <= 0:
            raise ValueError("per_second must be > 0")
        if window is None:
            return cls(per_second=per_second, burst=max(1, int(per_second)))
        burst = max(1, int(per_second * window + 1e-9))
        return cls(per_second=per_second, burst=burst, window=burst / per_second)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of records and the opaque token of the next page (``None`` on the last)."""

    records: list[T]
    next_token: str | None = None
    accounts: list[Account] = field(default_factory=list)
    """A deal page's accounts when the same calls returned them (Salesforce reads ``Account.*`` fields
    in the Opportunity query): the engine stages them and does not ``read_accounts`` their ids again.
    Optional: accounts of the page's deals that are missing here are read by id as usual."""
    ahead: tuple[str, ...] = ()
    """Optional: tokens of pages after the next one that the connector can name before reading it
    (HubSpot search: integer offsets below the answer's total). The engine then reads up to
    ``read_concurrency`` pages at once, each through the gate's limits, and still yields them in
    ``next_token`` order; a token no page leads to is a wasted call, so name only pages that exist."""


@dataclass(frozen=True, slots=True)
class TaskWrite:
    """A task onboard-sync wants created. ``key`` is its idempotency key and must be stored on it."""

    key: str
    subject: str
    body: str
    due_at: datetime
    owner_id: str | None
    priority: str = "MEDIUM"
    status: TaskStatus = TaskStatus.OPEN
    deal_id: str | None = None
    account_id: str | None = None
    contact_ids: tuple[str, ...] = ()
    due_date: date | None = None
    """``due_at``'s calendar date in the configured time zone, for CRMs whose task due date is a day
    (Salesforce ``ActivityDate``); ``None``: use ``due_at``'s UTC date."""


@dataclass(frozen=True, slots=True)
class TaskPatch:
    """A change to a task onboard-sync owns; only the fields present in ``changes`` are sent.

    ``changes`` keys: ``subject``, ``body``, ``due_at`` (datetime), ``owner_id``,
    ``status`` (TaskStatus), ``priority``.
    """

    key: str
    remote_id: str
    changes: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class FieldWrite:
    """Property values to set on one CRM record. Names are CRM property names, values strings."""

    key: str
    kind: ObjectKind
    remote_id: str
    values: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one record in a batch write (batches can fail partially)."""

    key: str
    ok: bool
    remote_id: str | None = None
    error: str | None = None
    retryable: bool = False
    unknown_properties: tuple[str, ...] = ()
    """A field write refused because the CRM has no such properties (deleted since the run checked
    its schema): their names. The core sends the record again without them (``sync.fieldwrites``)."""


@dataclass(frozen=True, slots=True)
class PropertySchema:
    """A CRM property as the CRM describes it (``describe``: ``validate --remote`` and the check at
    the start of every ``sync`` and ``plan``, ``onboard_sync.checks``)."""

    name: str
    label: str
    type: str
    """``string``, ``number``, ``date``, ``datetime``, ``enumeration`` or ``bool`` (what ``setup`` creates);
    any other type is taken as one no onboarding field fits."""
    options: tuple[str, ...] = ()
    unique: bool = False
    read_only: bool = False
    built_in: bool = False
    """The CRM itself defines it (HubSpot ``hubspotDefined``, a Salesforce standard field): never
    onboard-sync's, so a mapping line writes it only with ``allow_overwrite = true``."""
    created_by_setup: bool = False
    """``onboard-sync setup`` created it (HubSpot: in the connector's property group; Salesforce: the
    help text setup gives it). A property that is not built in and carries the label setup gives the
    mapped field counts as onboard-sync's too (created by an older setup, or by hand as setup asks)."""


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """A property onboard-sync needs to exist (``onboard-sync setup`` creates it)."""

    kind: ObjectKind
    name: str
    label: str
    type: str
    """One of ``string``, ``number``, ``date``, ``datetime``, ``enumeration``, ``bool``."""
    options: tuple[str, ...] = ()
    unique: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class SetupAction:
    """One thing ``setup`` did or would do, described as a sentence without its subject ("created
    deals property x", "would create …", "deals property x exists"). ``changed``: setup just made
    it; ``pending``: ``setup --dry-run`` found it missing and ``setup`` would make it; neither and
    not ``done``: an admin must do it by hand."""

    description: str
    done: bool
    changed: bool = False
    pending: bool = False


@dataclass
class ReadOptions:
    """Which extra properties to read per object kind (from the mappings)."""

    properties: dict[ObjectKind, tuple[str, ...]] = field(default_factory=dict)

    def for_kind(self, kind: ObjectKind) -> tuple[str, ...]:
        return self.properties.get(kind, ())


class Connector(ABC):
    """Base class of connectors. Subclasses set the class attributes and implement the methods
    their capabilities need; a method outside the declared capabilities may stay unimplemented.
    """

    type_name: ClassVar[str]
    version: ClassVar[str] = ""
    """Shown by ``onboard-sync connectors``; empty: the version of the distribution that installed it."""
    capabilities: ClassVar[frozenset[Capability]]
    settings_model: ClassVar[type[ConnectorSettings]]
    max_write_batch: ClassVar[int] = 100
    max_read_batch: ClassVar[int] = 100
    default_rate_limit: ClassVar[RateLimit] = RateLimit(per_second=10.0, burst=10)
    webhook_scheme: ClassVar[str | None] = None
    """How ``onboard-sync serve`` verifies and parses this connector's webhooks: the name of a scheme
    a plugin registers through ``register_webhook_schemes`` (built-in: ``hubspot``, ``zendesk``,
    ``salesforce-outbound``, ``salesforce-flow``). ``None``: no webhook route unless config.toml's
    ``[serve.webhooks.NAME]`` names a scheme."""
    write_concurrency: ClassVar[int] = 1
    """Batch write calls the engine may have in flight at once (each still passes the rate limit);
    more than 1 requires ``create_tasks``/``write_fields`` to be safe to call from several threads."""
    read_concurrency: ClassVar[int] = 1
    """By-id read calls (``read_accounts``, ``read_deals_by_id``, ``find_tasks``) the engine may have
    in flight at once; more than 1 requires them to be safe to call from several threads."""

    def __init__(
        self,
        instance: str,
        settings: ConnectorSettings,
        secrets: Mapping[str, str],
        call: ApiCaller,
    ) -> None:
        self.instance = instance
        self.settings = settings
        self.secrets = secrets
        self.call = call
        self.shared: dict[str, Any] = {}
        """State the connectors of one instance share while the runtime lives (e.g. a login session:
        a sync builds one for the deal pull and one for the ticket pull, ``serve`` one per reconcile).
        The core hands each connector it builds for an instance the same dict; keep what you store
        there thread-safe (the ticket pull runs on its own thread)."""

    # --- what the core asks of every connector -------------------------------------
    @classmethod
    def default_mapping(cls) -> str | None:
        """The TOML text of the mapping an instance of this type uses when the config folder has no
        ``mappings/<instance>.toml`` or ``mappings/<type>.toml`` (``None``: the user must write one).
        ``init``-style starter sets and ``validate`` read it too; errors in it name the type."""
        return None

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        """The ``[connectors.INSTANCE]`` table ``onboard-sync init --connector TYPE`` writes into config.toml:
        TOML text whose comments say what to fill in, every secret named by an ``*_env`` key (``None``:
        ``init`` writes ``type = "TYPE"`` alone and says to complete it). It must load as it is
        (``validate`` passes offline), so required values get a placeholder the comment points at."""
        return None

    def rate_limit(self) -> RateLimit:
        """The limiter for this instance: ``default_rate_limit``, or ``requests_per_second`` from the
        settings in the same shape (a rolling window stays a rolling window of the same length)."""
        if self.settings.requests_per_second:
            return RateLimit.at(self.settings.requests_per_second, window=self.default_rate_limit.window)
        return self.default_rate_limit

    def extra_rate_limits(self) -> Mapping[str, RateLimit]:
        """Named limits that some endpoints count against instead of ``rate_limit()``: a call made
        with ``call(..., limit=NAME)`` waits for NAME's limiter only (HubSpot: search has its own
        5 per second and is exempt from the ten-secondly bucket). Shared per instance within a run."""
        return {}

    @abstractmethod
    def classify_error(self, exc: BaseException) -> ApiError | None:
        """Translate an exception raised inside ``call`` into an ``ApiError`` (with status,
        retryability and ``retry_after``), or ``None`` if it is not an API error at all."""

    def renew_credentials(self, error: BaseException) -> bool:
        """Renew expired credentials after the vendor answered 401 (``error``: what the request raised).

        The gate calls it once per call, outside any rate-limit turn, and sends the request again if it
        returns True; False (the default: static tokens) makes the 401 an ``AuthError``. A renewal's own
        requests go through ``self.call`` like any other (counted and paced); a 401 inside a renewal is
        final. Calls may run in several threads: renew under a lock, once per expired credential."""
        return False

    @abstractmethod
    def check_auth(self) -> str:
        """Make one cheap authenticated call; return a description of the account
        (portal id, org name). Raise ``AuthError`` when credentials are missing or refused."""

    # --- reading (DEAL_SOURCE) ---------------------------------------------------------
    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        """Deals modified at or after ``since`` (all stages), or, when ``since`` is None (first
        run, backfill), the won deals only. Deals carry their account and contact ids."""
        raise NotImplementedError

    def read_deals_by_id(self, ids: Sequence[str], options: ReadOptions) -> list[Deal]:
        """Deals by id (at most ``max_read_batch``), with associations; missing ids are skipped.

        A skipped id means the deal is gone: its open onboarding is cancelled (``sync.deletions``),
        so raise on any failure rather than leaving ids out."""
        raise NotImplementedError

    def read_accounts(self, ids: Sequence[str], options: ReadOptions) -> list[Account]:
        """Accounts by id (at most ``max_read_batch``); missing ids are skipped."""
        raise NotImplementedError

    def read_contacts(self, ids: Sequence[str], options: ReadOptions) -> list[Contact]:
        """Contacts by id (at most ``max_read_batch``); missing ids are skipped."""
        raise NotImplementedError

    def read_owners(self) -> list[Owner]:
        """All owners (users) who can own records and tasks."""
        raise NotImplementedError

    # --- tasks (TASK_SINK) -------------------------------------------------------------
    def read_tasks(self, *, since: datetime | None, page_token: str | None) -> Page[Task]:
        """Tasks onboard-sync owns (those carrying a key) modified at or after ``since``."""
        raise NotImplementedError

    def find_tasks(self, keys: Sequence[str], deal_ids: Mapping[str, str]) -> list[Task]:
        """Tasks carrying any of ``keys`` (at most ``max_read_batch``). Used to resolve writes whose
        outcome is unknown before anything is created again; must not lag behind creates. A key it
        does not find is taken as a task a person deleted (``sync.deletions``), so raise on failure.

        ``deal_ids`` names the deal each key's task belongs to (key → deal id, from the core's store):
        a CRM whose tasks have a searchable key field ignores it; one without looks the keys up among
        those deals' tasks (``onboard_sync.toolkit.taskkeys``). Never parse a deal id out of a key."""
        raise NotImplementedError

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        """Create tasks (at most ``max_write_batch``) with their associations; one result per input."""
        raise NotImplementedError

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        """Update tasks onboard-sync owns; one result per input."""
        raise NotImplementedError

    # --- fields (FIELD_SINK) -----------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        """Set property values on records of one kind; one result per input."""
        raise NotImplementedError

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        """The CRM's properties for ``kind`` by name, fresh (not cached). ``validate --remote`` and every
        ``sync``/``plan`` check the mapped properties with it before anything is written: fill in
        ``built_in`` and ``created_by_setup`` so that properties onboard-sync does not own are refused."""
        raise NotImplementedError

    @classmethod
    def looks_like_owner_id(cls, value: str) -> bool:
        """Whether ``value`` has the shape of this CRM's owner (user) ids, so that ``validate`` can refuse
        a mistyped ``[owners]`` keyword offline (``deal_ownr``) and leave ids to the remote check.
        Default: one word containing a digit."""
        return bool(value) and not any(c.isspace() for c in value) and any(c.isdigit() for c in value)

    def required_properties(self) -> list[PropertySpec]:
        """Properties the connector itself needs (e.g. the task key property); ``setup`` creates them."""
        return []

    def ensure_properties(self, specs: Sequence[PropertySpec], *, apply: bool) -> list[SetupAction]:
        """Create missing properties (idempotently). With ``apply=False`` only report."""
        raise NotImplementedError

    # --- webhooks (WEBHOOK_RECEIVER) ----------------------------------------------------
    @classmethod
    def webhook_secret_env(cls, settings: ConnectorSettings) -> str | None:
        """The environment variable holding the webhook signing secret of an instance with these
        settings (``[serve.webhooks.NAME] secret_env`` overrides it); ``None``: none by default."""
        return None

    @classmethod
    def webhook_organization_id(cls, settings: ConnectorSettings) -> str | None:
        """The account id deliveries must carry, for schemes that check one instead of a signature
        (``salesforce-outbound``: the org id); ``[serve.webhooks.NAME] organization_id`` overrides it."""
        return None

    # --- tickets (TICKET_SOURCE) ---------------------------------------------------------
    def read_tickets(self, *, since: datetime | None, page_token: str | None) -> Page[Ticket]:
        """Tickets modified at or after ``since`` (``None``: the connector's backfill window).
        ``Ticket.account_id`` is the account's id *in this source* (a helpdesk organization, or
        the CRM company when the ticket source is the CRM itself); the core links it."""
        raise NotImplementedError

    def read_tickets_by_id(self, ids: Sequence[str]) -> list[Ticket]:
        """Tickets by id, at most ``max_read_batch`` (unknown ids left out): what ``serve`` reads when a
        helpdesk's webhook names tickets, instead of waiting for its export to include them. Optional:
        without it the worker waits for the next incremental pull."""
        raise NotImplementedError

    def read_ticket_accounts(self, *, since: datetime | None, page_token: str | None) -> Page[Account]:
        """Accounts of a ticket source that is not the CRM (helpdesk organizations) modified at or after
        ``since``, for linking to CRM accounts. ``properties`` carries ``external_id``,
        ``domain_names`` (space-separated) and custom organization fields by key. A ticket source
        whose tickets already carry CRM account ids does not implement it."""
        raise NotImplementedError

    def api_usage(self) -> dict[str, object] | None:
        """The vendor's own account of API usage (e.g. Salesforce's ``Sforce-Limit-Info``), or None.

        The engine adds it to the run report as ``api_calls.vendor_usage``."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sockets and pools."""


@dataclass(frozen=True, slots=True)
class ConnectorType:
    """What a plugin registers: a connector class and where it came from (for ``connectors``)."""

    name: str
    cls: type[Connector]
    package: str
    version: str

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.cls.capabilities
