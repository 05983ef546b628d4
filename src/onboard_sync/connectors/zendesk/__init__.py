"""The built-in Zendesk connector (httpx). Found through its ``onboard_sync`` entry point only."""

from onboard_sync.connectors.zendesk.connector import ZendeskConnector

__all__ = ["ZendeskConnector"]
