"""The connector toolkit: the parts every connector would otherwise write again (placeholder, filled below)."""
