"""onboard_sync.mappings."""
