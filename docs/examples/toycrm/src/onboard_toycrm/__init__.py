"""onboard-sync-toycrm: a ToyCRM connector for onboard-sync (the example of docs/writing-a-connector.md)."""

from onboard_toycrm.connector import ToyCrmConnector
from onboard_toycrm.settings import ToyCrmSettings

__all__ = ["ToyCrmConnector", "ToyCrmSettings"]
