"""onboard_sync.connectors.hubspot."""
