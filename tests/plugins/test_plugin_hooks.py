"""Every hook of ``hookspecs.py`` is documented and tested (the datasette rule).

* documented: docs/plugin-hooks.md has a section headed with the hook's full signature;
* tested: the plugin ``onboard_everyhook`` implements every hook, and this module has a
  ``test_hook_<name>`` for each one that runs the core code which calls it and checks what the
  plugin contributed took effect. A new hook without both fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import onboard_everyhook as plugin
import pytest
from typer.testing import CliRunner

from onboard_sync import hookspecs
from onboard_sync.inbound import Rejected, WebhookRequest
from onboard_sync.plugins import connector_types, get_plugin_manager, simulators, transforms
from onboard_sync.webhooks.schemes import SchemeOptions, get_scheme, scheme_names

ROOT = Path(__file__).resolve().parents[2]
HOOK_DOCS = ROOT / "docs" / "plugin-hooks.md"
HOOKS = sorted(
    name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, f"{hookspecs.PROJECT}_spec")
)


@contextmanager
def registered() -> Iterator[None]:
    """The plugin registered with the process-wide plugin manager, as its entry point would be."""
    pm = get_plugin_manager()
    pm.register(plugin, name="onboard-everyhook")
    try:
        yield
    finally:
        pm.unregister(name="onboard-everyhook")


@pytest.fixture
def everyhook() -> Iterator[None]:
    plugin.CALLS.clear()
    with registered():
        yield


# --- the rule ---------------------------------------------------------------------------------------
def test_the_hookspecs_are_found() -> None:
    assert {"register_connectors", "register_webhook_schemes", "register_simulators", "sync_finished"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    heading = f"## {hook}({parameters})"
    assert heading in HOOK_DOCS.read_text(encoding="utf-8").splitlines(), f"{HOOK_DOCS.name} lacks {heading!r}"


def test_the_docs_describe_no_hook_that_does_not_exist() -> None:
    documented = re.findall(r"^## (\w+)\(", HOOK_DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(documented) == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_implemented_by_the_test_plugin_and_has_a_test(hook: str) -> None:
    assert hasattr(getattr(plugin, hook, None), f"{hookspecs.PROJECT}_impl"), f"onboard_everyhook lacks {hook}"
    assert callable(globals().get(f"test_hook_{hook}")), f"no test_hook_{hook} in {Path(__file__).name}"


# --- contributions ------------------------------------------------------------------------------------
def test_hook_register_connectors(everyhook: None, tmp_path: Path) -> None:
    from datetime import date

    from onboard_sync.starter import starter_set

    found = connector_types()["relaycrm"]
    assert (found.cls, found.version) == (plugin.RelayCrm, "0.3")
    starter = starter_set(tmp_path, ["hubspot", "relaycrm"], today=date(2026, 3, 1))
    assert 'api_key_env = "RELAYCRM_API_KEY"' in starter.files[tmp_path / "config.toml"]
    assert starter.files[tmp_path / "mappings" / "relaycrm.toml"] == plugin.RelayCrm.default_mapping()
    assert plugin.CALLS["register_connectors"] >= 1


def test_hook_register_transforms(everyhook: None, tmp_path: Path) -> None:
    from onboard_sync.mappings.loader import load_mapping
    from onboard_sync.records import ObjectKind

    (tmp_path / "crm.toml").write_text('[account.read]\ntier = { property = "t", transform = "relay_upper" }\n')
    mapping = load_mapping(tmp_path, "crm", "hubspot", transforms())
    field = mapping.for_kind(ObjectKind.ACCOUNT).read["tier"]
    assert mapping.transforms[field.transform or ""]("gold") == "GOLD"
    assert plugin.CALLS["register_transforms"] >= 1


def test_hook_register_simulators(everyhook: None) -> None:
    registered_simulator = simulators()["relaycrm"]
    with registered_simulator(seed=3, deals=0, latency=0.0, port=0) as simulator:
        settings, secrets = simulator.connector_settings(), simulator.connector_secrets()
        answer = httpx.get(f"{settings['base_url']}/v1/health", headers={"X-Api-Key": secrets["RELAYCRM_API_KEY"]})
    assert answer.json() == {"ok": True, "seed": 3}
    assert plugin.CALLS["register_simulators"] >= 1


def test_hook_register_webhook_schemes(everyhook: None) -> None:
    import time

    assert "relay-hmac" in scheme_names()
    scheme = get_scheme("relay-hmac")
    assert scheme is not None
    body = b'[{"id": "e1", "object": "deal", "objectId": "42"}]'
    headers = {"X-Relay-Signature": plugin.relay_signature("s", body)}
    signed = WebhookRequest("POST", "http://x/webhooks/crm", body, headers, time.time())
    scheme.verify(signed, SchemeOptions("s"))
    [event] = scheme.parse(signed, SchemeOptions("s"))
    assert (event.key, event.kind, event.object_id) == ("relay:e1", "deal", "42")
    with pytest.raises(Rejected) as refused:
        scheme.verify(signed, SchemeOptions("another secret"))
    assert refused.value.status == 401


def test_hook_register_commands(everyhook: None) -> None:
    from onboard_sync.cli import _register_commands, app, sandbox_app

    try:
        _register_commands()
        result = CliRunner().invoke(app, ["relay-ping"])
    finally:  # what the plugin added goes again (the built-in commands stay: their modules import once)
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "relay-ping"]
        sandbox_app.registered_commands[:] = [c for c in sandbox_app.registered_commands if c.name != "relaycrm"]
    assert result.exit_code == 0, result.output
    assert "pong from the relay plugin" in result.output


# --- decisions and events, observed over two syncs of a HubSpot sandbox ------------------------------------
@pytest.fixture(scope="module")
def two_syncs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Any]]:
    """The plugin registered; setup, a sync with engagement at 55 (alerts open), one at 90 (they clear)."""
    from onboard_sync.cli.demo_crm import TOKEN_ENV, write_demo_config
    from onboard_sync.sandbox.hubspot import HubSpotSandbox
    from onboard_sync.testing.pytest_plugin import SandboxProject

    folder = tmp_path_factory.mktemp("everyhook")
    with HubSpotSandbox(seed=1, deals=20) as sandbox, pytest.MonkeyPatch.context() as env, registered():
        env.setenv(TOKEN_ENV, sandbox.token)
        config = write_demo_config(folder, sandbox.base_url)
        # judge the seeded customers by their history, so that their alerts are raised (not adopted)
        config.write_text(config.read_text().replace("[onboard_sync]\n", '[onboard_sync]\ncatch_up = "replay"\n', 1))
        project = SandboxProject(path=folder, sandbox=sandbox, monkeypatch=env)
        project.setup_crm()
        plugin.CALLS.clear()
        plugin.EVENTS.clear()
        plugin.ENGAGEMENT["score"] = 55.0
        first = project.sync()
        plugin.ENGAGEMENT["score"] = 90.0
        second = project.sync()
        yield project, first, second


def _events(name: str) -> list[dict[str, Any]]:
    return [arguments for hook, arguments in plugin.EVENTS if hook == name]


def test_hook_sync_finished(two_syncs: tuple[Any, Any, Any]) -> None:
    _, first, second = two_syncs
    assert [report["run_id"] for report in (e["report"] for e in _events("sync_finished"))] == [
        first.run_id,
        second.run_id,
    ]


def test_hook_onboarding_transitioned(two_syncs: tuple[Any, Any, Any]) -> None:
    project, first, _ = two_syncs
    with project.store() as store:
        onboardings = {o.id for o in store.onboardings(source="hubspot")}
    moved = {e["onboarding"].id for e in _events("onboarding_transitioned")}
    assert moved
    assert moved <= onboardings
    assert len(_events("onboarding_transitioned")) >= first.as_dict()["onboardings"]["transitions"] > 0


def test_hook_register_signals(two_syncs: tuple[Any, Any, Any]) -> None:
    project, _, _ = two_syncs
    assert plugin.CALLS["register_signals"] >= 1
    with project.store() as store:
        some = sorted(o.id for o in store.onboardings(source="hubspot"))[0]
        history = store.health_history(some)
    scored = [next(c for c in h.components if c["key"] == "engagement")["value"] for h in history]
    assert scored[-1] == 90.0, "the plugin's latest engagement score is what health used"


def test_hook_alert_raised(two_syncs: tuple[Any, Any, Any]) -> None:
    raised = [e for e in _events("alert_raised") if e["alert"] == "engagement_low"]
    assert raised, "engagement at 55 opens an alert episode"
    assert all(e["title"].startswith("Engagement below 70 at ") for e in raised)


def test_hook_alert_cleared(two_syncs: tuple[Any, Any, Any]) -> None:
    raised = {e["onboarding"].id for e in _events("alert_raised") if e["alert"] == "engagement_low"}
    cleared = {e["onboarding"].id for e in _events("alert_cleared") if e["alert"] == "engagement_low"}
    assert raised
    assert cleared == raised, "engagement back at 90 clears every episode the first sync opened"


def test_hook_resolve_segment(two_syncs: tuple[Any, Any, Any]) -> None:
    project, _, _ = two_syncs
    with project.store() as store:
        onboardings = store.onboardings(source="hubspot")
    chosen = [o for o in onboardings if o.deal_id[-1:] in plugin.EVEN_DIGITS]
    assert chosen
    assert {o.segment for o in chosen} == {"enterprise"}
    assert {o.segment for o in onboardings} != {"enterprise"}, "the playbook's rules decide the others"
    assert plugin.CALLS["resolve_segment"] >= len(chosen)


def test_hook_resolve_owner(two_syncs: tuple[Any, Any, Any]) -> None:
    project, _, _ = two_syncs
    asked = _events("resolve_owner")
    playbook_roles = set(project.runtime().playbook.roles)
    assert asked
    assert {e["role"] for e in asked} <= playbook_roles
    csm_deals = {e["deal"].id: e["deal"].owner_id for e in asked if e["role"] == "csm"}
    assigned = {
        key.split(":")[1]: task.properties.get("hubspot_owner_id")
        for task in project.sandbox.backend.tasks.values()
        if ":assign_csm:" in (key := task.properties.get("onboard_sync_key", ""))
    }
    assert assigned
    assert assigned == {deal_id: csm_deals[deal_id] for deal_id in assigned}, "the plugin made the deal owner the CSM"
