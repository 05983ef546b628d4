"""onboard_sync.sync."""
