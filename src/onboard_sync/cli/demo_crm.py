"""The demo's per-CRM adapters: start a sandbox, write a config for it, and act like people in the CRM.

``onboard-sync demo --crm hubspot|salesforce`` (:mod:`.demo`) drives the same story on either sandbox;
everything that differs between the two lives here: the sandbox, the ``[connectors.X]`` table and
secrets, how a sample task is shown, how a person completes a task or sets a phase by hand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from onboard_sync.mappings.loader import default_mapping_text

OWNERS_TABLE = """[owners]
sales = "deal_owner"
csm = ["erin.cs@example.test", "farid.cs@example.test", "grace.cs@example.test"]
implementation = ["farid.cs@example.test", "hugo.cs@example.test"]
tam = ["grace.cs@example.test"]
support = ["hugo.cs@example.test"]
account_manager = "account_owner"
"""


def write_config(directory: Path, crm: str, connector_table: str) -> Path:
    """A config folder with the default mapping of ``crm`` and one connector table."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "mappings").mkdir(exist_ok=True)
    (directory / "mappings" / f"{crm}.toml").write_text(default_mapping_text(crm) or "", encoding="utf-8")
    config = directory / "config.toml"
    config.write_text(
        f'[onboard_sync]\nstore = "sqlite:///onboard-sync.db"\nmappings = "mappings"\n\n{OWNERS_TABLE}\n'
        f"[connectors.{crm}]\n{connector_table}",
        encoding="utf-8",
    )
    return config


def write_salesforce_config(directory: Path, sandbox: Any) -> Path:
    """A config folder whose ``salesforce`` connector logs in to ``sandbox`` (client credentials)."""
    table = "".join(f"{k} = {_toml(v)}\n" for k, v in sandbox.connector_settings().items())
    return write_config(directory, "salesforce", table)


def _toml(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class People(Protocol):
    """What the demo needs from a CRM sandbox."""

    name: str
    sandbox: Any

    def configure(self, folder: Path) -> Path: ...

    def describe_task(self, remote_id: str) -> str: ...

    def complete_task(self, remote_id: str) -> None: ...

    def set_phase(self, deal_id: str, phase: str) -> None: ...


class HubSpotPeople:
    name = "hubspot"

    def __init__(self, seed: int, deals: int) -> None:
        from onboard_sync.sandbox.hubspot import HubSpotSandbox

        self.sandbox = HubSpotSandbox(seed=seed, deals=deals)

    def configure(self, folder: Path) -> Path:
        from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config

        os.environ[TOKEN_ENV] = self.sandbox.token
        return write_demo_config(folder, self.sandbox.base_url)

    def describe_task(self, remote_id: str) -> str:
        backend = self.sandbox.backend
        props = backend.tasks[remote_id].properties
        owner = backend.owners.get(props.get("hubspot_owner_id") or "")
        return (
            f"{props.get('hs_task_subject')!r} owner {owner.email if owner else '-'} due {props.get('hs_timestamp')} "
            f"→ deal {backend.associations('tasks', remote_id, 'deals')}, "
            f"company {backend.associations('tasks', remote_id, 'companies')}"
        )

    def complete_task(self, remote_id: str) -> None:
        self.sandbox.backend.complete_task(remote_id)

    def set_phase(self, deal_id: str, phase: str) -> None:
        self.sandbox.backend.update("deals", deal_id, {"onboarding_phase": phase})


class SalesforcePeople:
    name = "salesforce"

    def __init__(self, seed: int, deals: int) -> None:
        from onboard_sync.sandbox.salesforce import SalesforceSandbox

        self.sandbox = SalesforceSandbox(seed=seed, deals=deals)

    def configure(self, folder: Path) -> Path:
        for name, value in self.sandbox.connector_secrets().items():
            os.environ[name] = value
        return write_salesforce_config(folder, self.sandbox)

    def describe_task(self, remote_id: str) -> str:
        backend = self.sandbox.backend
        task = backend.tasks[remote_id]
        owner = backend.users.get(task.get("OwnerId") or "") or {}
        return (
            f"{task.get('Subject')!r} owner {owner.get('Email', '-')} due {task.get('ActivityDate')} "
            f"→ WhatId {task.get('WhatId')}, Account {task.get('AccountId')}, WhoId {task.get('WhoId')}"
        )

    def complete_task(self, remote_id: str) -> None:
        self.sandbox.backend.complete_task(remote_id)

    def set_phase(self, deal_id: str, phase: str) -> None:
        self.sandbox.backend.update("Opportunity", deal_id, {"Onboarding_Phase__c": phase})


def people_for(crm: str, seed: int, deals: int) -> People:
    if crm == "salesforce":
        return SalesforcePeople(seed, deals)
    return HubSpotPeople(seed, deals)
