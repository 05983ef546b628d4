"""Playbook rules: the TOML model, its loader and CEL conditions.

The engine loads a playbook once (:func:`load_playbook`) and hands it to the pure state
machine in :mod:`onboard_sync.onboarding.machine`. The shipped default, merged from the
five seed SOPs, lives in ``rules/default/`` (:func:`default_playbook_path`).
"""

from onboard_sync.rules.expressions import Condition
from onboard_sync.rules.loader import default_playbook_path, example_playbooks, load_playbook
from onboard_sync.rules.model import (
    FIELD_NAMES,
    METRICS,
    OWNER_ROLES,
    Decision,
    HealthComponent,
    HealthModel,
    Phase,
    Playbook,
    Segment,
    TaskTemplate,
)

__all__ = [
    "FIELD_NAMES",
    "METRICS",
    "OWNER_ROLES",
    "Condition",
    "Decision",
    "HealthComponent",
    "HealthModel",
    "Phase",
    "Playbook",
    "Segment",
    "TaskTemplate",
    "default_playbook_path",
    "example_playbooks",
    "load_playbook",
]
