"""onboard_sync.store."""
