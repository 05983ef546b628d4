"""Entry point of the built-in HubSpot connector (placeholder until the connector lands)."""
