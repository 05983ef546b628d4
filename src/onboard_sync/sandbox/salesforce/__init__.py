"""Salesforce dialect of the sandbox: a local org over HTTPS that simple-salesforce talks to unchanged.

Public API (used by the connector's tests, the engine's end-to-end tests, the pytest plugin, the demo
and the CLI)::

    from onboard_sync.sandbox.salesforce import SalesforceSandbox, create_sandbox, serve_forever

Layout (moto-style): ``backend.py`` state and behaviour, ``soql.py`` the SOQL parser (``soql_eval.py`` evaluates it),
``reads.py`` queries and cursors, ``errors.py`` error values and ids,
``schema.py`` org metadata, ``seed.py`` deterministic data, ``auth.py`` OAuth and sessions, ``tls.py``
the CA, ``responses.py`` the wire format, ``routes.py`` the URL table, ``app.py`` the shared middleware with
Salesforce's hooks (and its request-size check), ``sandbox.py`` the facade that runs it all on loopback.
"""

from onboard_sync.sandbox.salesforce.backend import SalesforceBackend, SfError
from onboard_sync.sandbox.salesforce.sandbox import SECRET_ENV, SalesforceSandbox, create_sandbox, serve_forever

__all__ = ["SECRET_ENV", "SalesforceBackend", "SalesforceSandbox", "SfError", "create_sandbox", "serve_forever"]
