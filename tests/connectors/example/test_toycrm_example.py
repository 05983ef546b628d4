"""The example connector of docs/writing-a-connector.md (docs/examples/toycrm) works, and the guide quotes it.

* Its own contract test (``tests/test_toycrm_contract.py`` of the example plugin) runs here, so the
  contract suite passes against the code the guide shows.
* Its pyproject's entry point registers the connector type through the ``onboard_sync`` group.
* The core's gate does with it what the guide says: retries a 429 after ``Retry-After``, stops on a
  used-up quota, turns a refused key into ``AuthError``, keeps the key out of messages, refuses writes
  in plan mode.
* ``setup``, ``validate --remote`` and two syncs through the real engine: tasks and fields are written
  once, and the second run writes nothing.
* Every code block of the guide marked ``<!-- from: PATH -->`` is a verbatim excerpt of that file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pluggy
import pytest
from onboard_toycrm import plugin
from onboard_toycrm.connector import ToyCrmConnector
from onboard_toycrm.settings import ToyCrmSettings
from onboard_toycrm.sim import ToyCrm, ToyCrmError
from test_toycrm_contract import TestToyCrmContract  # noqa: F401 - the example's own test, collected here

from onboard_sync import hookspecs
from onboard_sync.calls.gate import ApiGate, WriteRefused
from onboard_sync.connector import Capability, FieldWrite, PropertySpec, ReadOptions, TaskPatch, TaskWrite
from onboard_sync.errors import ApiError, AuthError, RateLimitExhausted
from onboard_sync.plugins import connector_types, get_plugin_manager
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.runtime import load_runtime
from onboard_sync.schema import check_remote, property_specs
from onboard_sync.store import Store
from onboard_sync.sync import apply as apply_module
from onboard_sync.sync import fieldwrites
from onboard_sync.sync.engine import Engine
from onboard_sync.toolkit import marked_key

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "writing-a-connector.md"
EXAMPLE = ROOT / "docs" / "examples" / "toycrm"
SECRET = "toy-secret-5f3a9c"


# --- registration ---------------------------------------------------------------------------------------
def test_the_entry_point_registers_the_connector_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    points = project["entry-points"]["onboard_sync"]
    assert points == {"toycrm": "onboard_toycrm.plugin"}
    # what installing the plugin writes: a distribution whose metadata lists that entry point
    dist = tmp_path / f"onboard_sync_toycrm-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: onboard-sync-toycrm\nVersion: {project['version']}\n")
    (dist / "entry_points.txt").write_text("[onboard_sync]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = pluggy.PluginManager(hookspecs.PROJECT)  # what get_plugin_manager() builds
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    toy = connector_types(pm)["toycrm"]
    assert toy.cls is ToyCrmConnector
    assert toy.version == project["version"], "the class says the version its package is released as"
    assert toy.capabilities == {Capability.DEAL_SOURCE, Capability.TASK_SINK, Capability.FIELD_SINK}


def test_sandbox_toycrm_serves_the_example_simulator_through_the_real_cli(tmp_path: Path) -> None:
    """The example registers its simulator (``register_simulators``): ``onboard-sync sandbox toycrm``
    serves a seeded workspace and prints the table and the secret a connector needs."""
    dist = tmp_path / "onboard_sync_toycrm-0.2.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onboard-sync-toycrm\nVersion: 0.2.0\n")
    (dist / "entry_points.txt").write_text("[onboard_sync]\ntoycrm = onboard_toycrm.plugin\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_SYNC_")}
    env.update(PYTHONPATH=os.pathsep.join([str(tmp_path), str(EXAMPLE / "src")]), PYTHONUNBUFFERED="1", NO_COLOR="1")
    command = [sys.executable, "-m", "onboard_sync.cli", "sandbox", "toycrm", "--port", "0", "--deals", "4"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        printed = "".join(proc.stdout.readline() for _ in range(8))
        url = re.search(r"toycrm sandbox on (http://127\.0\.0\.1:\d+)", printed)
        secret = re.search(r"export TOYCRM_CLIENT_SECRET=(\S+)", printed)
        assert url, printed
        assert secret, printed
        assert f'base_url = "{url.group(1)}"' in printed
        grant = {"grant_type": "client_credentials", "client_id": "onboard-sync", "client_secret": secret.group(1)}
        token = httpx.post(f"{url.group(1)}/oauth/token", json=grant).json()["access_token"]
        deals = httpx.get(f"{url.group(1)}/v1/deals/search", headers={"Authorization": f"Bearer {token}"})
        assert len(deals.json()["results"]) == 4
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --- the gate around the connector ----------------------------------------------------------------------
@pytest.fixture
def crm() -> Iterator[ToyCrm]:
    with ToyCrm("gate", client_secret=SECRET).seed(deals=6) as crm:
        yield crm


def gated(
    crm: ToyCrm, *, plan_mode: bool = False, secret: str | None = SECRET
) -> tuple[ToyCrmConnector, ApiGate, list[float]]:
    """A connector wired as the runtime wires it, with a gate whose sleeps move a fake clock."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    gate = ApiGate(plan_mode=plan_mode, sleep=sleep, clock=lambda: sum(slept))
    secrets = {"TOYCRM_CLIENT_SECRET": secret} if secret else {}
    settings = ToyCrmSettings(type="toycrm", base_url=crm.url, client_id=crm.client_id)
    conn = ToyCrmConnector("toycrm", settings, secrets, gate)
    gate.bind_connector(conn)
    return conn, gate, slept


def test_a_429_is_retried_after_the_time_the_server_asked(crm: ToyCrm) -> None:
    conn, gate, slept = gated(crm)
    conn.check_auth()  # the access token first, so the fault below meets the call under test
    crm.fail_next(ToyCrmError(429, "slow down", code="rate_limited", retry_after=7))
    assert conn.read_owners()
    assert slept == [7.0]
    assert gate.summary()["retries"] == 1
    assert gate.calls["owners.list"] == 2


def test_the_simulators_own_rate_limit_makes_the_gate_wait_as_long_as_it_says() -> None:
    slept: list[float] = []
    with ToyCrm("limited", client_secret=SECRET, rate_limit=3).seed(deals=2) as crm:

        def sleep(seconds: float) -> None:  # the gate's wait moves the simulator's clock
            slept.append(seconds)
            crm.clock.advance(seconds=seconds)

        gate = ApiGate(sleep=sleep, clock=lambda: sum(slept))
        settings = ToyCrmSettings(type="toycrm", base_url=crm.url, client_id=crm.client_id)
        conn = ToyCrmConnector("toycrm", settings, {"TOYCRM_CLIENT_SECRET": SECRET}, gate)
        gate.bind_connector(conn)
        for _ in range(5):
            assert conn.read_owners()
        refused = [r for r in crm.requests if r.status == 429]
    assert refused, "three calls per ten seconds: some were refused"
    waits = [seconds for seconds in slept if seconds >= 1]  # the gate's own pacing sleeps are shorter
    assert len(waits) == len(refused) == gate.summary()["retries"], slept
    assert all(seconds <= 10 for seconds in waits), "Retry-After: until the oldest call leaves the window"


def test_a_used_up_quota_stops_at_once(crm: ToyCrm) -> None:
    conn, gate, _ = gated(crm)
    conn.check_auth()
    crm.fail_next(ToyCrmError(403, "daily quota used", code="quota_exhausted"))
    with pytest.raises(RateLimitExhausted):
        conn.read_owners()
    assert gate.calls["owners.list"] == 1


def test_server_errors_are_retried_and_client_errors_are_not(crm: ToyCrm) -> None:
    conn, gate, _ = gated(crm)
    conn.check_auth()
    crm.fail_next(ToyCrmError(503, "busy"), ToyCrmError(500, "oops"))
    assert conn.read_owners()
    assert gate.calls["owners.list"] == 3
    crm.fail_next(ToyCrmError(400, f"bad request from client secret {SECRET}"))
    with pytest.raises(ApiError) as caught:
        conn.read_owners()
    assert gate.calls["owners.list"] == 4
    assert (caught.value.status, caught.value.endpoint) == (400, "owners.list")
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_refused_or_missing_secret_is_an_auth_error_without_the_secret(crm: ToyCrm) -> None:
    with pytest.raises(AuthError, match="client_credentials grant was refused") as refused:
        gated(crm, secret="wrong-secret-123")[0].check_auth()
    assert "wrong-secret-123" not in str(refused.value)
    with pytest.raises(AuthError, match="TOYCRM_CLIENT_SECRET"):
        gated(crm, secret=None)[0].check_auth()
    assert gated(crm)[0].check_auth() == "ToyCRM workspace gate as integration@toycrm.test"


def test_an_expired_token_is_renewed_once_through_the_gate(crm: ToyCrm) -> None:
    conn, gate, _ = gated(crm)
    assert conn.read_owners()
    crm.expire_tokens()
    assert conn.read_owners()
    assert gate.calls["oauth.token"] == 2, "the renewal's token request is counted like any call"
    assert (gate.renewals, gate.calls["owners.list"]) == (1, 3), "read, refused with the old token, read again"


def test_plan_mode_refuses_writes_before_they_are_sent(crm: ToyCrm) -> None:
    conn, gate, _ = gated(crm, plan_mode=True)
    due = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(WriteRefused):
        conn.create_tasks([TaskWrite(key="toycrm:3:kickoff:1", subject="Kickoff", body="", due_at=due, owner_id=None)])
    assert crm.records("tasks") == []
    assert gate.calls == {"oauth.token": 1}, "only the access token was asked for: the create was never sent"
    assert crm.requests.counts()["POST /v1/tasks/batch/create"] == 0


def test_update_tasks_and_write_fields_report_each_record(crm: ToyCrm) -> None:
    """Beyond the contract suite: one result per input, in order; a missing record fails alone."""
    conn, _, _ = gated(crm)
    conn.ensure_properties(conn.required_properties(), apply=True)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    write = TaskWrite(key="toycrm:1:kickoff:1", subject="Kickoff", body="", due_at=due, owner_id="o1", deal_id="3")
    task_id = conn.create_tasks([write])[0].remote_id
    assert task_id
    patches = [
        TaskPatch(write.key, task_id, {"status": TaskStatus.COMPLETED, "due_at": due + timedelta(days=1)}),
        TaskPatch("toycrm:9:gone:1", "999", {"subject": "gone"}),
    ]
    assert [(r.key, r.ok) for r in conn.update_tasks(patches)] == [(write.key, True), ("toycrm:9:gone:1", False)]
    (task,) = conn.find_tasks([write.key], {write.key: "3"})
    assert (task.status, task.due_at, task.deal_id) == (TaskStatus.COMPLETED, due + timedelta(days=1), "3")
    conn.ensure_properties([PropertySpec(ObjectKind.DEAL, "onboarding_phase", "Phase", "string")], apply=True)
    fields = [
        FieldWrite("toycrm:3:fields", ObjectKind.DEAL, "3", {"onboarding_phase": "kickoff"}),
        FieldWrite("toycrm:999:fields", ObjectKind.DEAL, "999", {"onboarding_phase": "kickoff"}),
        FieldWrite("toycrm:4:fields", ObjectKind.DEAL, "4", {"no_such_property": "x"}),
    ]
    results = conn.write_fields(ObjectKind.DEAL, fields)
    assert [r.ok for r in results] == [True, False, False]
    assert all(r.error for r in results[1:])
    assert [r.unknown_properties for r in results] == [(), (), ("no_such_property",)]
    # a property deleted mid-run: the core sends the record again without it, and the rest lands
    both = FieldWrite("toycrm:6:fields", ObjectKind.DEAL, "6", {"onboarding_phase": "handoff", "no_such_property": "x"})
    (outcome,) = fieldwrites.write_fields(conn, ObjectKind.DEAL, [both])
    assert (outcome.result.ok, outcome.dropped) == (True, ("no_such_property",))
    assert conn.read_deals_by_id(["6"], ReadOptions({ObjectKind.DEAL: ("onboarding_phase",)}))[0].properties == {
        "onboarding_phase": "handoff"
    }
    options = ReadOptions({ObjectKind.DEAL: ("onboarding_phase",)})
    assert conn.read_deals_by_id(["3", "999"], options)[0].properties == {"onboarding_phase": "kickoff"}


# --- setup, validate --remote and sync through the real engine ------------------------------------------
@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToyCrm]:
    """The example's config.toml and mapping in ``tmp_path``, the plugin registered, its workspace seeded."""
    crm = ToyCrm("acme", client_secret=SECRET).seed(deals=9).start()
    config = (EXAMPLE / "config.toml").read_text().replace("https://acme.toycrm.test", crm.url)
    (tmp_path / "config.toml").write_text(config)
    shutil.copytree(EXAMPLE / "mappings", tmp_path / "mappings")
    monkeypatch.setenv("TOYCRM_CLIENT_SECRET", SECRET)
    monkeypatch.delenv("ONBOARD_SYNC_STORE", raising=False)
    pm = get_plugin_manager()
    # what its entry point does once the plugin is installed; an earlier test may have left it loaded
    # (the process-wide manager read the entry point of a dist-info it put on sys.path)
    added = None if pm.is_registered(plugin) else pm.register(plugin, name="onboard_toycrm-test")
    try:
        yield crm
    finally:
        if added:
            pm.unregister(name=added)
        crm.close()


def test_setup_validate_and_two_syncs_through_the_engine(acme: ToyCrm, tmp_path: Path) -> None:
    rt = load_runtime(tmp_path / "config.toml")
    conn = rt.connector("toycrm")
    try:
        assert check_remote(conn, rt.mappings["toycrm"], rt.playbook), "validate --remote: nothing is set up yet"
        specs = conn.required_properties() + property_specs(rt.mappings["toycrm"], rt.playbook)  # as `setup`
        assert all(a.changed for a in conn.ensure_properties(specs, apply=True))
        assert not any(a.changed for a in conn.ensure_properties(specs, apply=True)), "setup is idempotent"
        assert check_remote(conn, rt.mappings["toycrm"], rt.playbook) == []
        deal_properties = conn.describe(ObjectKind.DEAL)
        assert deal_properties["stage"].built_in, "ToyCRM's own properties are never onboard-sync's"
        assert not deal_properties["onboarding_phase"].built_in
    finally:
        conn.close()

    with Store.open(rt.config.store_url) as store:
        first = Engine(rt, store).run().instances["toycrm"]
        assert first.error is None
        assert first.writes_failed == 0, first.failures
        assert first.started == 6, "the six won deals start onboardings"
        tasks = acme.records("tasks")
        assert len(tasks) == first.writes_created > 0
        keys = [t["properties"]["onboard_sync_key"] for t in tasks]
        assert len(set(keys)) == len(keys)
        assert all(k.startswith("toycrm:") for k in keys)
        won = [d for d in acme.records("deals") if d["properties"]["stage"] == "won"]
        assert all(d["properties"].get("onboarding_phase") for d in won)

        second = Engine(rt, store).run().instances["toycrm"]
        assert second.error is None
        assert (second.writes_created, second.writes_updated, second.writes_failed) == (0, 0, 0)
        assert len(acme.records("tasks")) == len(tasks)


class Crash(BaseException):
    """Raised where the process would have been killed (``onboard_sync.crash``'s SIGKILL, in-process)."""


def test_activity_tasks_are_found_through_their_deals_after_a_crash(
    acme: ToyCrm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Task keys for a CRM whose tasks have no searchable field: the engine hands ``find_tasks`` each
    key's deal from its store, so writes of unknown outcome are found there, never created twice."""
    config = (tmp_path / "config.toml").read_text().replace('type = "toycrm"', 'type = "toycrm-activities"')
    (tmp_path / "config.toml").write_text(config)
    rt = load_runtime(tmp_path / "config.toml")
    conn = rt.connector("toycrm")
    try:
        conn.ensure_properties(property_specs(rt.mappings["toycrm"], rt.playbook), apply=True)
    finally:
        conn.close()

    def crash(name: str) -> None:
        if name == "after-task-create":  # the CRM has the activities; the store has PENDING keys
            raise Crash(name)

    with Store.open(rt.config.store_url) as store:
        with monkeypatch.context() as mp:
            mp.setattr(apply_module, "crash_point", crash)
            with pytest.raises(Crash):
                Engine(rt, store).run()
        activities = acme.records("activities")
        assert activities, "the first batch reached the CRM"
        assert acme.records("tasks") == [], "tasks go to activities"
        pending = store.pending_tasks("toycrm")
        assert {t.key for t in pending} == {marked_key(a["note"]) for a in activities}
        acme.requests.clear()
        second = Engine(rt, store).run().instances["toycrm"]
        assert second.error is None
        assert second.recovered == len(activities), "each found through its deal and recorded as created"
        assert store.pending_tasks("toycrm") == []
        keys = [marked_key(a["note"]) for a in acme.records("activities")]
        assert len(keys) == len(set(keys)), "nothing created twice"
        assert len(keys) == len(activities) + second.writes_created
        deals = {a["deal_id"] for a in activities}
        looked_up = {r.path.split("/")[3] for r in acme.requests if r.key.startswith("GET /v1/deals/")}
        assert deals <= looked_up, "the pending keys' deals were read"


# --- the guide quotes the example as it is --------------------------------------------------------------
QUOTE = re.compile(r"<!-- from: (?P<path>\S+) -->\n```[a-z]*\n(?P<code>.*?)\n```", re.DOTALL)


def excerpts(code: str) -> list[list[str]]:
    """A quoted block's runs of lines; a line that is only ``...`` stands for lines left out."""
    runs: list[list[str]] = [[]]
    for line in code.splitlines():
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(line.rstrip())
    return [run for run in runs if run]


def test_every_quoted_block_is_a_verbatim_excerpt_of_the_example() -> None:
    quotes = list(QUOTE.finditer(GUIDE.read_text(encoding="utf-8")))
    quoted = {m["path"] for m in quotes}
    assert quoted >= {
        "src/onboard_toycrm/connector.py",
        "src/onboard_toycrm/plugin.py",
        "pyproject.toml",
        "config.toml",
        "mappings/toycrm.toml",
        "tests/test_toycrm_contract.py",
    }
    for match in quotes:
        lines = [line.rstrip() for line in (EXAMPLE / match["path"]).read_text(encoding="utf-8").splitlines()]
        at = 0
        for run in excerpts(match["code"]):
            found = next((i for i in range(at, len(lines) - len(run) + 1) if lines[i : i + len(run)] == run), None)
            assert found is not None, f"{match['path']}: the guide quotes lines it does not hold (in order):\n" + (
                "\n".join(run)
            )
            at = found + len(run)


def test_the_guide_links_to_files_that_exist() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    targets = re.findall(r"\]\((?!https?:|#)([^)#]+)", text)
    assert targets
    missing = [t for t in targets if not (GUIDE.parent / t).exists()]
    assert missing == []


def test_every_python_snippet_of_the_guide_states_its_imports() -> None:
    """A snippet either imports what it uses or comes just after an ``*Imports: …*`` paragraph naming them."""
    text = GUIDE.read_text(encoding="utf-8")
    silent = []
    for block in re.finditer(r"```python\n(?P<code>.*?)\n```", text, re.DOTALL):
        paragraphs = text[: block.start()].rstrip().split("\n\n")
        stated = paragraphs[-1].startswith("*Imports:") or (
            paragraphs[-1].startswith("<!-- from:") and paragraphs[-2].startswith("*Imports:")
        )
        if not stated and not re.search(r"^(from \S+ )?import ", block["code"], re.MULTILINE):
            silent.append(block["code"].splitlines()[0])
    assert silent == []


def test_the_example_connector_module_is_at_most_150_lines() -> None:
    """The toolkit's promise (issue 15): a complete REST connector module in 150 lines or fewer."""
    lines = (EXAMPLE / "src" / "onboard_toycrm" / "connector.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
