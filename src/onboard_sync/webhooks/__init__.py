"""onboard_sync.webhooks."""
