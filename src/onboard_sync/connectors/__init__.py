"""onboard_sync.connectors."""
