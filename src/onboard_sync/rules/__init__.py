"""Playbook rules: the TOML model, its loader and CEL conditions.

The engine loads a playbook once (:func:`load_playbook`) and hands it to the pure state
machine in :mod:`onboard_sync.onboarding.machine`. The shipped default, merged from the
five seed SOPs, lives in ``rules/default/`` (:func:`default_playbook_path`).

The names are imported on first use (``lazy_loader``; listed once, in ``__init__.pyi``): the CEL
runtime behind conditions loads only when a playbook does.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
