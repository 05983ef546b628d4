"""The built-in Salesforce connector, on simple-salesforce.

:mod:`.plugin` is the entry point; :class:`SalesforceConnector` and :class:`SalesforceSettings` are the
public names, imported on first use (``lazy_loader``; listed in ``__init__.pyi``) so that loading the
entry point stays cheap. See docs/connectors/salesforce.md for setting up an org.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
