"""Type stub of the package's lazily imported names: ``lazy_loader.attach_stub`` reads this list, type
checkers read it as the module."""

from .expressions import Condition
from .loader import default_playbook_path, example_playbooks, load_playbook
from .model import (
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
