"""onboard-sync: turn customer-onboarding playbooks into live CRM and helpdesk automation.

The public API for plugin authors: the ``hookimpl`` marker, the ``Connector`` base class
and its data types, the canonical records and the error types.

Each name is imported on first use (``lazy_loader``; the names are listed once, in ``__init__.pyi``),
so a process that needs only part of the package (``onboard-sync --help``, ``status``) does not pay
for the rest.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)

__version__ = "0.1.0"
__all__ += ["__version__"]
