"""The built-in Salesforce connector, on simple-salesforce.

:mod:`.plugin` is the entry point; :class:`SalesforceConnector` and :class:`SalesforceSettings` are the
public names. See docs/connectors/salesforce.md for setting up an org.
"""

from onboard_sync.connectors.salesforce.connector import SalesforceConnector
from onboard_sync.connectors.salesforce.settings import SalesforceSettings

__all__ = ["SalesforceConnector", "SalesforceSettings"]
