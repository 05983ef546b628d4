"""onboard_sync.testing."""
