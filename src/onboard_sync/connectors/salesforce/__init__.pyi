"""Type stub of the package's lazily imported names: ``lazy_loader.attach_stub`` reads this list, type
checkers read it as the module."""

from .connector import SalesforceConnector
from .settings import SalesforceSettings

__all__ = ["SalesforceConnector", "SalesforceSettings"]
