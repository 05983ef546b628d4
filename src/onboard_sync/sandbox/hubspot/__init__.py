"""onboard_sync.sandbox.hubspot."""
