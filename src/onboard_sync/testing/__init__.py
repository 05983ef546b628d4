"""Testing helpers for onboard-sync and for plugin authors: a pytest plugin with sandbox fixtures.

Installed as the ``onboard_sync`` pytest plugin (entry point ``pytest11``), so any project
that depends on onboard-sync gets the fixtures without a conftest import.
"""
