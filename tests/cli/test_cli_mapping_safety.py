"""Mappings and owner roles that would damage the CRM are refused before anything is written, through the
real CLI against the HubSpot and Salesforce sandboxes: ``validate --remote`` and ``sync`` each stop with
exit code 2 and one line naming the file and line, the sandbox receives no write, the store records no
onboarding, and no secret is printed.

The cases: a health score mapped onto a property the CRM defines itself (HubSpot ``dealname``, Salesforce
``Name``), a mapping to a property the CRM lacks, an owner role that is a typo (refused offline) and one
naming an owner the CRM does not have (refused against the CRM's owners).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_run import Result, assert_no_secret, clean_env, run_cli, user_error

from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.sandbox.salesforce.sandbox import SECRET_ENV
from onboard_sync.store import Store


@dataclass
class Crm:
    """A sandbox project after ``setup``, as the CLI tests drive it."""

    project: Any
    mapping: Path
    env: dict[str, str]
    secrets: tuple[str, ...]

    @property
    def config(self) -> Path:
        return Path(self.project.config_path)

    def writes(self) -> list[str]:
        """Requests the sandbox served that may change the CRM (logins are not changes)."""
        return [r.key for r in self.project.sandbox.requests.writes() if "oauth2" not in r.template]

    def cli(self, *args: str) -> Result:
        result = run_cli(*args, "--config", self.config, env=self.env)
        for secret in self.secrets:
            assert_no_secret(result, secret)
        return result


@pytest.fixture(params=["hubspot", "salesforce"])
def crm(request: pytest.FixtureRequest) -> Crm:
    if request.param == "hubspot":
        project = request.getfixturevalue("sandbox_project")
        env = clean_env({TOKEN_ENV: project.sandbox.token})
        secrets: tuple[str, ...] = (project.sandbox.token,)
    else:
        project = request.getfixturevalue("salesforce_project")
        values = project.sandbox.connector_secrets()
        env = clean_env(values)
        secrets = (values[SECRET_ENV], values["SALESFORCE_PASSWORD"])
    project.setup_crm()
    return Crm(project, project.path / "mappings" / f"{project.instance}.toml", env, secrets)


def edit(path: Path, pattern: str, replacement: str) -> int:
    """Replace the first line matching ``pattern`` (a regex) with ``replacement``; its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if re.match(pattern, line))
    lines[number] = replacement
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number + 1


def built_in_health_score(crm: Crm) -> tuple[str, str]:
    """``health_score`` mapped onto the deal's name: every deal would be renamed "40"."""
    name = "dealname" if crm.project.instance == "hubspot" else "Name"
    line = edit(crm.mapping, r"health_score = ", f'health_score = "{name}"')
    return f"mappings/{crm.mapping.name}:{line} (deal.write.health_score)", f"CRM property '{name}' "


def missing_property(crm: Crm) -> tuple[str, str]:
    name = "onboarding_dya" if crm.project.instance == "hubspot" else "Onboarding_Dya__c"
    line = edit(crm.mapping, r"day = ", f'day = "{name}"')
    return f"mappings/{crm.mapping.name}:{line} (deal.write.day)", f"CRM property '{name}' does not exist"


def owner_typo(crm: Crm) -> tuple[str, str]:
    line = edit(crm.config, r"csm = ", 'csm = "deal_ownr"')
    return f"config.toml:{line} (owners.csm)", "'deal_ownr' is neither a role"


def owner_unknown(crm: Crm) -> tuple[str, str]:
    owner = "ghost@example.test" if crm.project.instance == "hubspot" else "005000000000000AAA"
    line = edit(crm.config, r"csm = ", f'csm = ["erin.cs@example.test", "{owner}"]')
    return f"config.toml:{line} (owners.csm)", f"'{owner}' is not an active owner in {crm.project.instance}"


CASES: dict[str, Callable[[Crm], tuple[str, str]]] = {
    "built-in-property": built_in_health_score,
    "missing-property": missing_property,
    "owner-typo": owner_typo,
    "owner-unknown": owner_unknown,
}


@pytest.mark.parametrize("case", CASES)
def test_a_dangerous_mapping_or_owner_is_refused_by_validate_remote_and_sync_before_any_write(
    crm: Crm, case: str
) -> None:
    where, what = CASES[case](crm)
    before = crm.writes()

    for command in (["validate", "--remote"], ["sync"], ["sync", "--json"]):
        error = user_error(crm.cli(*command))
        assert where in error, f"{command}: {error}"
        assert what in error, f"{command}: {error}"

    assert crm.writes() == before, "nothing may reach the CRM"
    with Store.open(crm.project.runtime().config.store_url) as store:
        assert store.onboardings(source=crm.project.instance) == [], "nothing may be recorded"


def test_the_built_in_property_error_says_how_to_allow_it_and_allowing_it_writes_it(crm: Crm) -> None:
    built_in_health_score(crm)
    error = user_error(crm.cli("validate", "--remote"))
    name = "dealname" if crm.project.instance == "hubspot" else "Name"
    suggestion = f'health_score = {{ property = "{name}", allow_overwrite = true }}'
    assert suggestion in error, error

    edit(crm.mapping, r"health_score = ", suggestion)
    assert crm.cli("validate", "--remote").returncode == 0
    synced = crm.cli("sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    if crm.project.instance == "hubspot":
        names = [d.properties.get("dealname") for d in crm.project.sandbox.backend.deals.values()]
    else:
        names = [o.get("Name") for o in crm.project.sandbox.backend.opportunities.values()]
    assert any(n is not None and n.replace(".0", "").isdigit() for n in names), "the line said so: it is written"
