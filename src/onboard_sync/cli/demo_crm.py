"""The demo's per-CRM adapters: start a sandbox, write a config for it, and act like people in the CRM.

``onboard-sync demo --crm hubspot|salesforce`` (:mod:`.demo`) drives the same story on either sandbox;
everything that differs between the two lives here: the sandbox, the ``[connectors.X]`` table and
secrets, how a task looks in the CRM, how a person completes a task or sets a phase by hand.
The config writers are also used by the test fixtures (``onboard_sync.testing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the sandbox package is imported when a demo runs, not when --help lists the commands
    from onboard_sync.sandbox.clock import SandboxClock

WEEK_BEFORE = timedelta(days=7)
"""How far in the past the demo's CRM starts: its first sync runs then, the people's week of work ends now,
so the store the demo leaves agrees with the real clock that later commands (status, plan, sync) use."""

TOKEN_ENV = "ONBOARD_SYNC_DEMO_HUBSPOT_TOKEN"
SECRETS_FILE = ".env"

OWNERS_TABLE = """[owners]
sales = "deal_owner"
csm = ["erin.cs@example.test", "farid.cs@example.test", "grace.cs@example.test"]
implementation = ["farid.cs@example.test", "hugo.cs@example.test"]
tam = ["grace.cs@example.test"]
support = ["hugo.cs@example.test"]
account_manager = "account_owner"
"""


def write_config(
    directory: Path, crm: str, connector_table: str, *, secrets: Mapping[str, str] | None = None, rules: bool = False
) -> Path:
    """A config folder with the default mapping of ``crm`` and one connector table.

    ``secrets`` go to a ``.env`` file next to config.toml (readable by its owner only), so that
    commands run in the folder later find them; ``rules`` copies the default playbook to
    ``rules/`` (unless the folder has one already, which may hold the user's edits).
    """
    from onboard_sync.mappings.loader import default_mapping_text

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "mappings").mkdir(exist_ok=True)
    (directory / "mappings" / f"{crm}.toml").write_text(default_mapping_text(crm) or "", encoding="utf-8")
    core = ['store = "sqlite:///onboard-sync.db"', 'mappings = "mappings"']
    if rules:
        core.append('rules = "rules"')
        if not (directory / "rules").exists():
            _copy_default_rules(directory / "rules")
    if secrets:
        core.append(f'secrets_file = "{SECRETS_FILE}"')
        env = directory / SECRETS_FILE
        env.write_text("".join(f"{name}={_dotenv(value)}\n" for name, value in secrets.items()), encoding="utf-8")
        env.chmod(0o600)
    config = directory / "config.toml"
    config.write_text(
        "[onboard_sync]\n" + "\n".join(core) + f"\n\n{OWNERS_TABLE}\n[connectors.{crm}]\n{connector_table}",
        encoding="utf-8",
    )
    return config


def _dotenv(value: str) -> str:
    """A double-quoted dotenv value (a PEM key spans lines)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _copy_default_rules(target: Path) -> None:
    from onboard_sync.rules import default_playbook_path

    source = default_playbook_path()
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.toml")) if source.is_dir() else [source]:
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")


def hubspot_table(base_url: str) -> str:
    return f'type = "hubspot"\nbase_url = "{base_url}"\ntoken_env = "{TOKEN_ENV}"\n'


def write_demo_config(directory: Path, base_url: str) -> Path:
    """A config folder that points the hubspot connector at the sandbox (its token in $TOKEN_ENV)."""
    return write_config(directory, "hubspot", hubspot_table(base_url))


def write_salesforce_config(directory: Path, sandbox: Any, *, secrets: bool = False, rules: bool = False) -> Path:
    """A config folder whose ``salesforce`` connector logs in to ``sandbox`` (client credentials)."""
    from onboard_sync.tomlfile import toml_value

    table = "".join(f"{k} = {toml_value(v)}\n" for k, v in sandbox.connector_settings().items())
    return write_config(
        directory, "salesforce", table, secrets=sandbox.connector_secrets() if secrets else None, rules=rules
    )


@dataclass(frozen=True)
class CrmTask:
    """A task as a person sees it in the CRM."""

    subject: str
    body: str
    owner: str
    due: datetime | date | None
    links: str


class People(Protocol):
    """What the demo needs from a CRM sandbox: its ``clock`` starts ``WEEK_BEFORE`` in the past (the
    demo's first sync runs then, and the people's week of work ends now)."""

    name: str
    sandbox: Any
    clock: SandboxClock

    def configure(self, folder: Path) -> Path: ...

    def task(self, remote_id: str) -> CrmTask: ...

    def complete_task(self, remote_id: str) -> None: ...

    def set_phase(self, deal_id: str, phase: str) -> None: ...


class HubSpotPeople:
    name = "hubspot"

    def __init__(self, seed: int, deals: int) -> None:
        from onboard_sync.sandbox.clock import SandboxClock
        from onboard_sync.sandbox.hubspot import HubSpotSandbox

        self.clock = SandboxClock(start=datetime.now(UTC) - WEEK_BEFORE)
        self.sandbox = HubSpotSandbox(seed=seed, deals=deals, clock=self.clock)

    def configure(self, folder: Path) -> Path:
        table = hubspot_table(self.sandbox.base_url)
        return write_config(folder, "hubspot", table, secrets={TOKEN_ENV: self.sandbox.token}, rules=True)

    def task(self, remote_id: str) -> CrmTask:
        from onboard_sync.toolkit.times import parse_time

        backend = self.sandbox.backend
        props = backend.tasks[remote_id].properties
        owner = backend.owners.get(props.get("hubspot_owner_id") or "")
        deals = ", ".join(backend.associations("tasks", remote_id, "deals"))
        companies = ", ".join(backend.associations("tasks", remote_id, "companies"))
        due = props.get("hs_timestamp")
        return CrmTask(
            subject=props.get("hs_task_subject", ""),
            body=props.get("hs_task_body", ""),
            owner=owner.email if owner else "no owner",
            due=parse_time(due),
            links=f"deal {deals or '-'}, company {companies or '-'}",
        )

    def complete_task(self, remote_id: str) -> None:
        self.sandbox.backend.complete_task(remote_id)

    def set_phase(self, deal_id: str, phase: str) -> None:
        self.sandbox.backend.update("deals", deal_id, {"onboarding_phase": phase})


class SalesforcePeople:
    name = "salesforce"

    def __init__(self, seed: int, deals: int) -> None:
        from onboard_sync.sandbox.clock import SandboxClock
        from onboard_sync.sandbox.salesforce import SalesforceSandbox

        self.clock = SandboxClock(start=datetime.now(UTC) - WEEK_BEFORE)
        self.sandbox = SalesforceSandbox(seed=seed, deals=deals, clock=self.clock)

    def configure(self, folder: Path) -> Path:
        return write_salesforce_config(folder, self.sandbox, secrets=True, rules=True)

    def task(self, remote_id: str) -> CrmTask:
        backend = self.sandbox.backend
        task = backend.tasks[remote_id]
        owner = backend.users.get(task.get("OwnerId") or "") or {}
        due = task.get("ActivityDate")
        return CrmTask(
            subject=task.get("Subject") or "",
            body=task.get("Description") or "",
            owner=owner.get("Email") or "no owner",
            due=due if isinstance(due, date) else (date.fromisoformat(due) if due else None),
            links=f"opportunity {task.get('WhatId') or '-'}, account {task.get('AccountId') or '-'}",
        )

    def complete_task(self, remote_id: str) -> None:
        self.sandbox.backend.complete_task(remote_id)

    def set_phase(self, deal_id: str, phase: str) -> None:
        self.sandbox.backend.update("Opportunity", deal_id, {"Onboarding_Phase__c": phase})


def people_for(crm: str, seed: int, deals: int) -> People:
    if crm == "salesforce":
        return SalesforcePeople(seed, deals)
    return HubSpotPeople(seed, deals)


__all__ = [
    "TOKEN_ENV",
    "CrmTask",
    "People",
    "people_for",
    "write_config",
    "write_demo_config",
    "write_salesforce_config",
]
