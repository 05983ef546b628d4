"""onboard_sync.rules."""
