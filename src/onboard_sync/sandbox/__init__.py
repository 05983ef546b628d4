"""onboard_sync.sandbox."""
