"""The built-in Zendesk connector (httpx). Found through its ``onboard_sync`` entry point only;
:class:`ZendeskConnector` is imported on first use (``lazy_loader``; listed in ``__init__.pyi``) so that
loading the entry point stays cheap.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
