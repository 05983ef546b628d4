"""Type stub of the package's lazily imported names: ``lazy_loader.attach_stub`` reads this list, type
checkers read it as the module."""

from .connector import HubSpotConnector
from .properties import required_properties
from .settings import HubSpotSettings

__all__ = ["HubSpotConnector", "HubSpotSettings", "required_properties"]
