"""`[serve]` configuration: routes come from the connectors' declared schemes; a missing secret or a
route for an unknown instance is a clear error naming the key, and `serve` exits 2."""

from __future__ import annotations

from typing import Any

import pytest
from webhook_support import SECRET_ENV, add_serve_config

from onboard_sync.errors import ConfigError
from onboard_sync.webhooks.server import resolve_routes


def test_hubspot_route_uses_the_client_secret_env(sandbox_project: Any) -> None:
    sandbox_project.monkeypatch.setenv(SECRET_ENV, "abc")
    add_serve_config(sandbox_project)
    routes = resolve_routes(sandbox_project.runtime())
    assert list(routes) == ["hubspot"]
    assert routes["hubspot"].scheme.name == "hubspot"
    assert routes["hubspot"].options.secret == "abc"
    assert "abc" not in repr(routes["hubspot"])


def test_missing_secret_names_the_env_var(sandbox_project: Any) -> None:
    sandbox_project.monkeypatch.delenv(SECRET_ENV, raising=False)
    add_serve_config(sandbox_project)
    with pytest.raises(ConfigError, match=SECRET_ENV):
        resolve_routes(sandbox_project.runtime())


def test_unknown_instance_and_scheme_are_config_errors(sandbox_project: Any) -> None:
    sandbox_project.monkeypatch.setenv(SECRET_ENV, "abc")
    add_serve_config(sandbox_project, '[serve.webhooks.zendesk]\nsecret_env = "ZD"\n')
    with pytest.raises(ConfigError, match=r"serve.webhooks.zendesk"):
        resolve_routes(sandbox_project.runtime())


def test_unknown_scheme(sandbox_project: Any) -> None:
    sandbox_project.monkeypatch.setenv(SECRET_ENV, "abc")
    add_serve_config(sandbox_project, '[serve.webhooks.hubspot]\nscheme = "carrier-pigeon"\n')
    with pytest.raises(ConfigError, match="unknown webhook scheme"):
        resolve_routes(sandbox_project.runtime())
