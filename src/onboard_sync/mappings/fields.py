"""The canonical onboarding fields onboard-sync can write to a CRM, with their types.

Mappings name a CRM property for each canonical field they want written; ``setup`` uses
these types to create the properties; ``validate --remote`` checks the CRM's types.
Enumeration options come from the playbook (phases, segments) where they depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboard_sync.onboarding.state import OnboardingStatus


@dataclass(frozen=True, slots=True)
class FieldType:
    """How a canonical field is stored in a CRM property."""

    type: str  # string | number | date | enumeration
    label: str
    description: str
    options_from: str | None = None  # "phases" | "segments" | "statuses" | "health"


HEALTH_STATUSES = ("healthy", "at-risk", "critical")

CANONICAL_FIELDS: dict[str, FieldType] = {
    "phase": FieldType("enumeration", "Onboarding phase", "Current phase of the onboarding playbook.", "phases"),
    "phase_label": FieldType("string", "Onboarding phase (label)", "Human-readable phase name."),
    "status": FieldType(
        "enumeration", "Onboarding status", "active, at-risk, extended, completed or cancelled.", "statuses"
    ),
    "segment": FieldType("enumeration", "Onboarding segment", "Segment chosen by the playbook.", "segments"),
    "day": FieldType("number", "Onboarding day", "Days since the onboarding started."),
    "planned_days": FieldType("number", "Onboarding planned days", "Planned length of the onboarding."),
    "start_date": FieldType("date", "Onboarding start date", "When the onboarding started (deal close)."),
    "next_step": FieldType("string", "Onboarding next step", "The next open required task or milestone."),
    "next_step_due": FieldType("date", "Onboarding next step due", "Due date of the next step."),
    "go_live_date": FieldType("date", "Go-live date", "When the customer went live."),
    "health_score": FieldType("number", "Onboarding health score", "0–100, from the playbook's health rules."),
    "health_status": FieldType("enumeration", "Onboarding health", "healthy, at-risk or critical.", "health"),
    "health_reasons": FieldType("string", "Onboarding health reasons", "Why the score is what it is."),
    "health_components": FieldType(
        "string", "Onboarding health components", "Every health component: ok, failing (and why) or no data."
    ),
    "health_computed": FieldType("date", "Onboarding health computed", "The day the health was last computed."),
}

STATUS_OPTIONS = tuple(status.value for status in OnboardingStatus)
