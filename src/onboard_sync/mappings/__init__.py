"""Field mappings: the model, the loader and the canonical onboarding fields."""

from onboard_sync.mappings.fields import CANONICAL_FIELDS, FieldType
from onboard_sync.mappings.loader import load_mapping, parse_mapping
from onboard_sync.mappings.model import FieldMap, MappingSet, ObjectMapping

__all__ = [
    "CANONICAL_FIELDS",
    "FieldMap",
    "FieldType",
    "MappingSet",
    "ObjectMapping",
    "load_mapping",
    "parse_mapping",
]
