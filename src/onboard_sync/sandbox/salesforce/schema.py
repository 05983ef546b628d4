"""The Salesforce sandbox's org metadata: sObjects, their fields, and describe() output.

Standard objects (User, Account, Contact, Opportunity, OpportunityContactRole, Task, Case) carry the
fields onboard-sync and ordinary integrations use; custom fields (``…__c``) are added at run time
through the Tooling API (``POST /tooling/sobjects/CustomField``), as ``onboard-sync setup`` does.
Used by the backend (validation, value typing) and the app (describe, tooling).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

KEY_PREFIX = {
    "User": "005",
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Task": "00T",
    "Case": "500",
}
WON_STAGE, LOST_STAGE = "Closed Won", "Closed Lost"
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    WON_STAGE,
    LOST_STAGE,
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
CLOSED_TASK_STATUSES = frozenset({"Completed"})
PRIORITIES = ("High", "Normal", "Low")
CASE_STATUSES = ("New", "Working", "Escalated", "Closed")
CLOSED_CASE_STATUSES = frozenset({"Closed"})
CASE_PRIORITIES = ("High", "Medium", "Low")
CASE_ORIGINS = ("Phone", "Email", "Web")
NUMBER_TYPES = frozenset({"double", "int", "currency", "percent"})
TOOLING_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Number": "double",
    "Date": "date",
    "DateTime": "datetime",
    "Picklist": "picklist",
    "Checkbox": "boolean",
}


@dataclass(frozen=True)
class FieldDef:
    """One field as describe() reports it."""

    name: str
    type: str
    label: str = ""
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    required: bool = False
    custom: bool = False
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None
    """For a reference field: the parent's name for its children through it (``Opportunity.OpportunityContactRoles``:
    the ``relationshipName`` of the parent's describe ``childRelationships``, the FROM of a subquery)."""
    picklist: tuple[str, ...] = ()
    length: int = 0
    help_text: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "length": self.length or (255 if self.type in ("string", "picklist", "textarea") else 0),
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable and not self.required,
            "custom": self.custom,
            "inlineHelpText": self.help_text or None,
            "externalId": self.external_id,
            "idLookup": self.external_id or self.name == "Id",
            "unique": self.unique,
            "calculated": False,
            "defaultedOnCreate": self.name in ("OwnerId", "CreatedDate", "SystemModstamp"),
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "picklistValues": [
                {"value": v, "label": v, "active": True, "defaultValue": i == 0} for i, v in enumerate(self.picklist)
            ],
        }


def _ro(name: str, ftype: str, **kw: Any) -> FieldDef:
    return FieldDef(name, ftype, createable=False, updateable=False, **kw)


def _ref(name: str, to: tuple[str, ...], rel: str, children: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(
        name, "reference", reference_to=to, relationship_name=rel, child_relationship=children, length=18, **kw
    )


SYSTEM = (
    _ro("Id", "id", nillable=False),
    _ro("IsDeleted", "boolean"),
    _ro("CreatedDate", "datetime"),
    _ro("LastModifiedDate", "datetime"),
    _ro("SystemModstamp", "datetime"),
)
OWNER = _ref("OwnerId", ("User",), "Owner")

STANDARD: dict[str, tuple[FieldDef, ...]] = {
    "User": (
        FieldDef("Username", "string", required=True),
        FieldDef("FirstName", "string"),
        FieldDef("LastName", "string", required=True),
        _ro("Name", "string"),
        FieldDef("Email", "email", required=True),
        FieldDef("IsActive", "boolean"),
        FieldDef("Department", "string"),
    ),
    "Account": (
        FieldDef("Name", "string", required=True),
        FieldDef("Website", "url"),
        FieldDef("Industry", "picklist", picklist=("Technology", "Finance", "Healthcare", "Retail", "Education")),
        FieldDef("NumberOfEmployees", "int"),
        FieldDef("AnnualRevenue", "currency"),
        FieldDef("Type", "picklist", picklist=("Prospect", "Customer - Direct", "Partner")),
        OWNER,
    ),
    "Contact": (
        FieldDef("FirstName", "string"),
        FieldDef("LastName", "string", required=True),
        _ro("Name", "string"),
        FieldDef("Email", "email"),
        FieldDef("Title", "string"),
        _ref("AccountId", ("Account",), "Account", "Contacts"),
        OWNER,
    ),
    "Opportunity": (
        FieldDef("Name", "string", required=True),
        FieldDef("StageName", "picklist", required=True, picklist=STAGES),
        FieldDef("CloseDate", "date", required=True),
        FieldDef("Amount", "currency"),
        FieldDef("Probability", "percent"),
        _ro("IsWon", "boolean"),
        _ro("IsClosed", "boolean"),
        _ref("AccountId", ("Account",), "Account", "Opportunities"),
        OWNER,
    ),
    "OpportunityContactRole": (
        _ref("OpportunityId", ("Opportunity",), "Opportunity", "OpportunityContactRoles", required=True),
        _ref("ContactId", ("Contact",), "Contact", "OpportunityContactRoles", required=True),
        FieldDef("Role", "picklist", picklist=("Decision Maker", "Economic Buyer", "Technical Buyer", "User")),
        FieldDef("IsPrimary", "boolean"),
    ),
    "Task": (
        FieldDef("Subject", "combobox"),
        FieldDef("Description", "textarea"),
        FieldDef("ActivityDate", "date"),
        FieldDef("Status", "picklist", required=True, picklist=TASK_STATUSES),
        FieldDef("Priority", "picklist", required=True, picklist=PRIORITIES),
        _ro("IsClosed", "boolean"),
        _ro("CompletedDateTime", "datetime"),
        _ref("WhatId", ("Account", "Opportunity"), "What", "Tasks"),
        _ref("WhoId", ("Contact",), "Who", "Tasks"),
        FieldDef(
            "AccountId",
            "reference",
            createable=False,
            updateable=False,
            reference_to=("Account",),
            relationship_name="Account",
            length=18,
        ),
        OWNER,
    ),
    "Case": (
        _ro("CaseNumber", "string", length=30),
        FieldDef("Subject", "string"),
        FieldDef("Description", "textarea"),
        FieldDef("Status", "picklist", picklist=CASE_STATUSES),
        FieldDef("Priority", "picklist", picklist=CASE_PRIORITIES),
        FieldDef("Origin", "picklist", picklist=CASE_ORIGINS),
        _ro("IsClosed", "boolean"),
        _ro("ClosedDate", "datetime"),
        _ref("AccountId", ("Account",), "Account", "Cases"),
        _ref("ContactId", ("Contact",), "Contact", "Cases"),
        OWNER,
    ),
}


@dataclass
class OrgSchema:
    """The org's objects and fields; custom fields are added by :meth:`add_custom_field`."""

    objects: dict[str, dict[str, FieldDef]] = field(default_factory=dict)

    @classmethod
    def standard(cls) -> OrgSchema:
        return cls({name: {f.name: f for f in (*SYSTEM, *fields)} for name, fields in STANDARD.items()})

    def fields(self, sobject: str) -> dict[str, FieldDef]:
        return self.objects[sobject]

    def field(self, sobject: str, name: str) -> FieldDef | None:
        """A field by name, case-insensitively (SOQL and REST names are case-insensitive)."""
        fields = self.objects.get(sobject, {})
        if name in fields:
            return fields[name]
        lower = name.lower()
        return next((f for n, f in fields.items() if n.lower() == lower), None)

    def sobject(self, name: str) -> str | None:
        lower = name.lower()
        return next((n for n in self.objects if n.lower() == lower), None)

    def relationship(self, sobject: str, rel: str) -> FieldDef | None:
        lower = rel.lower()
        return next(
            (
                f
                for f in self.objects.get(sobject, {}).values()
                if f.relationship_name and f.relationship_name.lower() == lower
            ),
            None,
        )

    def child_relationships(self, sobject: str) -> list[tuple[str, str, FieldDef]]:
        """``(relationship name, child sObject, its reference field)`` of every child relationship of ``sobject``."""
        return [
            (str(f.child_relationship), child, f)
            for child, fields in self.objects.items()
            for f in fields.values()
            if f.child_relationship and sobject in f.reference_to
        ]

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str, FieldDef] | None:
        """``sobject``'s child relationship ``name`` (any case): its own name, the child sObject, the field."""
        lower = name.lower()
        return next((r for r in self.child_relationships(sobject) if r[0].lower() == lower), None)

    def add_custom_field(self, sobject: str, definition: FieldDef) -> None:
        targets = ("Task",) if sobject == "Activity" else (sobject,)
        for target in targets:
            self.objects[target][definition.name] = replace(definition, custom=True)

    def describe(self, sobject: str, prefix: str) -> dict[str, Any]:
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": KEY_PREFIX.get(sobject),
            "custom": False,
            "createable": True,
            "updateable": True,
            "queryable": True,
            "fields": [f.describe() for f in self.objects[sobject].values()],
            "childRelationships": [
                {
                    "childSObject": child,
                    "field": f.name,
                    "relationshipName": name,
                    "cascadeDelete": f.required,
                    "restrictedDelete": False,
                    "deprecatedAndHidden": False,
                }
                for name, child, f in self.child_relationships(sobject)
            ],
            "recordTypeInfos": [],
            "urls": {"sobject": f"{prefix}/sobjects/{sobject}", "describe": f"{prefix}/sobjects/{sobject}/describe"},
        }


def tooling_field(sobject: str, metadata: dict[str, Any]) -> tuple[str, FieldDef]:
    """A ``CustomField`` Tooling body's ``FullName``/``Metadata`` as a field definition; ValueError if bad."""
    name = sobject.split(".", 1)[1] if "." in sobject else ""
    if not name.endswith("__c"):
        raise ValueError("FullName must be Object.Field__c")
    kind = metadata.get("type")
    if kind not in TOOLING_TYPES:
        raise ValueError(f"unsupported field type {kind!r}")
    values = (metadata.get("valueSet") or {}).get("valueSetDefinition", {}).get("value", [])
    return sobject.split(".", 1)[0], FieldDef(
        name,
        TOOLING_TYPES[kind],
        label=str(metadata.get("label") or name),
        external_id=bool(metadata.get("externalId")),
        unique=bool(metadata.get("unique")),
        picklist=tuple(str(v.get("fullName")) for v in values),
        length=int(metadata.get("length") or 0),
        help_text=str(metadata.get("inlineHelpText") or ""),
    )
