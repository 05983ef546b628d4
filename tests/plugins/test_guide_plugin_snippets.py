"""The plugin snippets of docs/writing-a-connector.md run as printed, with the imports they state:
the ToyCRM webhook scheme verifies and parses a signed delivery, the ToyCRM simulator adapter
meets the ``Simulator`` protocol (``onboard-sync sandbox`` prints its table; its secret logs in),
``default_mapping()`` reads the package's file, and the starter table loads as ToyCRM settings."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-connector.md"
sys.path.insert(0, str(ROOT / "docs" / "examples" / "toycrm" / "src"))


def snippet(defines: str) -> str:
    """The python block of the guide that defines ``defines`` (``class X`` or ``def x``)."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)
    [found] = [b for b in blocks if defines in b]
    return found


def run_snippet(class_name: str, namespace: dict[str, Any]) -> dict[str, Any]:
    exec(compile(snippet(f"class {class_name}"), f"{GUIDE.name}:{class_name}", "exec"), namespace)
    return namespace


def snippet_method(name: str, namespace: dict[str, Any]) -> Any:
    """A method the guide prints indented, as in its class, on a class of its own."""
    source = "class Probe:\n" + snippet(f"def {name}(")
    exec(compile(source, f"{GUIDE.name}:{name}", "exec"), namespace)
    return getattr(namespace["Probe"], name)


def stated_imports(class_name: str) -> str:
    """The *Imports: ...* line the guide puts above the block."""
    text = GUIDE.read_text(encoding="utf-8")
    before = text[: text.index(snippet(f"class {class_name}"))]
    return before[before.rindex("*Imports:") :]


def test_the_webhook_scheme_snippet_verifies_and_parses() -> None:
    from onboard_sync import hookimpl
    from onboard_sync.inbound import InboundEvent, Rejected, WebhookRequest, malformed
    from onboard_sync.webhooks.schemes import Scheme, SchemeOptions, parse_json

    names = {"hashlib": hashlib, "hmac": hmac, "Callable": Callable, "hookimpl": hookimpl}
    names |= {"InboundEvent": InboundEvent, "Rejected": Rejected, "WebhookRequest": WebhookRequest}
    names |= {"malformed": malformed, "Scheme": Scheme, "SchemeOptions": SchemeOptions, "parse_json": parse_json}
    assert all(f"`{name}`" in stated_imports("ToyCrmScheme") for name in names)
    scheme = run_snippet("ToyCrmScheme", dict(names))["ToyCrmScheme"]()

    body = json.dumps({"events": [{"id": "ev1", "object": "company", "objectId": 7, "type": "company.updated"}]})
    signature = hmac.new(b"app-secret", body.encode(), hashlib.sha256).hexdigest()
    request = WebhookRequest("POST", "http://x/webhooks/toycrm", body.encode(), {"X-ToyCRM-Signature": signature}, 0)
    scheme.verify(request, SchemeOptions("app-secret"))
    [event] = scheme.parse(request, SchemeOptions("app-secret"))
    assert (event.key, event.kind, event.object_id, event.type) == ("toycrm:ev1", "account", "7", "company.updated")
    with pytest.raises(Rejected):
        scheme.verify(request, SchemeOptions("another secret"))


def test_the_simulator_snippet_serves_and_its_secret_logs_in() -> None:
    from onboard_toycrm.sim import ToyCrm

    from onboard_sync import hookimpl
    from onboard_sync.cli.sandbox import connection_lines

    names = {"Callable": Callable, "Any": Any, "hookimpl": hookimpl, "ToyCrm": ToyCrm}
    assert all(f"`{name}`" in stated_imports("ToyCrmSandbox") for name in names)
    sandbox_class = run_snippet("ToyCrmSandbox", dict(names))["ToyCrmSandbox"]

    with sandbox_class(seed=2, deals=3, latency=0.0, port=0) as sandbox:
        settings, secrets = sandbox.connector_settings(), sandbox.connector_secrets()
        login = {"grant_type": "client_credentials", "client_id": settings["client_id"]}
        login["client_secret"] = secrets["TOYCRM_CLIENT_SECRET"]
        token = httpx.post(f"{sandbox.base_url}/oauth/token", json=login, timeout=10)
    assert token.status_code == 200, token.text
    lines = connection_lines("toycrm", settings, secrets)
    assert lines[0] == "[connectors.toycrm]"
    assert lines[-1] == "export TOYCRM_CLIENT_SECRET=toy-secret-2"


def test_the_default_mapping_snippet_reads_the_packages_file() -> None:
    from importlib import resources

    from onboard_sync.connectors.hubspot import HubSpotConnector

    read = snippet_method("default_mapping", {"resources": resources, "__package__": "onboard_sync.connectors.hubspot"})
    assert read() == HubSpotConnector.default_mapping()
    assert "[deal.write]" in read()


def test_the_starter_table_snippet_loads_as_toycrm_settings() -> None:
    import tomllib

    from onboard_toycrm.settings import ToyCrmSettings

    table = tomllib.loads(snippet_method("starter_config", {})("crm"))["connectors"]["crm"]
    settings = ToyCrmSettings(**table)
    assert (settings.type, settings.client_secret_env) == ("toycrm", "TOYCRM_CLIENT_SECRET")
    assert "REPLACE" in settings.base_url, "what only the admin knows is a placeholder init points at"
