"""HubSpot portal metadata for the sandbox: object types, association types, built-in properties,
property groups and pipelines.

Pure data plus tiny lookups, used by the backend (validation, defaults) and the wire layer (names,
type ids). Values follow the HubSpot reference (shared/reference/hubspot.md, sections 1-5).
"""

from __future__ import annotations

from typing import Any

KINDS = ("contacts", "companies", "deals", "tickets", "tasks")
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tickets": "0-5", "tasks": "0-27"}
SINGULAR = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tickets": "ticket",
    "tasks": "task",
}
_ALIASES = {
    **{k: k for k in KINDS},
    **{v: k for k, v in OBJECT_TYPE_IDS.items()},
    **{v: k for k, v in SINGULAR.items()},
}


def resolve_kind(name: str) -> str | None:
    """``deals`` / ``deal`` / ``0-3`` / ``DEALS`` -> ``deals``; ``None`` when unknown."""
    return _ALIASES.get(name.strip().lower())


# --- associations --------------------------------------------------------------------------------
# type id -> (from kind, to kind, label or None, v3 name); all HUBSPOT_DEFINED
# (source: hubspot/crm/association_type.py in the SDK)
ASSOCIATION_TYPES: dict[int, tuple[str, str, str | None, str]] = {
    1: ("contacts", "companies", "Primary", "contact_to_company"),
    279: ("contacts", "companies", None, "contact_to_company_unlabeled"),
    2: ("companies", "contacts", "Primary", "company_to_contact"),
    280: ("companies", "contacts", None, "company_to_contact_unlabeled"),
    5: ("deals", "companies", "Primary", "deal_to_company"),
    341: ("deals", "companies", None, "deal_to_company_unlabeled"),
    6: ("companies", "deals", "Primary", "company_to_deal"),
    342: ("companies", "deals", None, "company_to_deal_unlabeled"),
    3: ("deals", "contacts", None, "deal_to_contact"),
    4: ("contacts", "deals", None, "contact_to_deal"),
    26: ("tickets", "companies", "Primary", "ticket_to_company"),
    339: ("tickets", "companies", None, "ticket_to_company_unlabeled"),
    25: ("companies", "tickets", "Primary", "company_to_ticket"),
    340: ("companies", "tickets", None, "company_to_ticket_unlabeled"),
    16: ("tickets", "contacts", None, "ticket_to_contact"),
    15: ("contacts", "tickets", None, "contact_to_ticket"),
    27: ("deals", "tickets", None, "deal_to_ticket"),
    28: ("tickets", "deals", None, "ticket_to_deal"),
    216: ("tasks", "deals", None, "task_to_deal"),
    215: ("deals", "tasks", None, "deal_to_task"),
    192: ("tasks", "companies", None, "task_to_company"),
    191: ("companies", "tasks", None, "company_to_task"),
    204: ("tasks", "contacts", None, "task_to_contact"),
    203: ("contacts", "tasks", None, "contact_to_task"),
    230: ("tasks", "tickets", None, "task_to_ticket"),
    229: ("tickets", "tasks", None, "ticket_to_task"),
}
INVERSE_TYPE: dict[int, int] = {
    1: 2,
    279: 280,
    5: 6,
    341: 342,
    3: 4,
    26: 25,
    339: 340,
    16: 15,
    27: 28,
    216: 215,
    192: 191,
    204: 203,
    230: 229,
}
INVERSE_TYPE.update({v: k for k, v in list(INVERSE_TYPE.items())})
DEFAULT_TYPE: dict[tuple[str, str], int] = {
    (f, t): tid for tid, (f, t, label, _) in ASSOCIATION_TYPES.items() if label is None
}


def v3_type_name(type_id: int) -> str:
    return ASSOCIATION_TYPES[type_id][3] if type_id in ASSOCIATION_TYPES else f"type_{type_id}"


# --- pipelines -----------------------------------------------------------------------------------
DEAL_STAGES: list[tuple[str, str, float, bool]] = [
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
]
TICKET_STAGES: list[tuple[str, str, str]] = [
    ("1", "New", "OPEN"),
    ("2", "Waiting on contact", "OPEN"),
    ("3", "Waiting on us", "OPEN"),
    ("4", "Closed", "CLOSED"),
]
STAGE_PROBABILITY = {sid: p for sid, _, p, _ in DEAL_STAGES}
CLOSED_STAGES = {sid for sid, _, _, closed in DEAL_STAGES if closed}


def pipelines(created_at: str) -> dict[str, list[dict[str, Any]]]:
    """Wire-format pipelines per object kind (``GET /crm/v3/pipelines/{objectType}``)."""

    def stage(sid: str, label: str, order: int, metadata: dict[str, str]) -> dict[str, Any]:
        return {
            "id": sid,
            "label": label,
            "displayOrder": order,
            "metadata": metadata,
            "archived": False,
            "createdAt": created_at,
            "updatedAt": created_at,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }

    deal_stages = [
        stage(sid, label, i, {"isClosed": str(closed).lower(), "probability": str(p)})
        for i, (sid, label, p, closed) in enumerate(DEAL_STAGES)
    ]
    ticket_stages = [
        stage(sid, label, i, {"ticketState": state}) for i, (sid, label, state) in enumerate(TICKET_STAGES)
    ]
    base = {"archived": False, "displayOrder": 0, "createdAt": created_at, "updatedAt": created_at}
    return {
        "deals": [{**base, "id": "default", "label": "Sales Pipeline", "stages": deal_stages}],
        "tickets": [{**base, "id": "0", "label": "Support Pipeline", "stages": ticket_stages}],
    }


# --- properties ----------------------------------------------------------------------------------
CREATED_PROP = {
    "contacts": "createdate",
    "companies": "createdate",
    "deals": "createdate",
    "tickets": "createdate",
    "tasks": "hs_createdate",
}
MODIFIED_PROPS = {"contacts": ("lastmodifieddate", "hs_lastmodifieddate")}
MODIFIED_PROP = {k: "lastmodifieddate" if k == "contacts" else "hs_lastmodifieddate" for k in KINDS}
DEFAULT_PROPERTIES = {
    "deals": [
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ],
    "contacts": ["firstname", "lastname", "email", "createdate", "lastmodifieddate", "hs_object_id"],
    "companies": ["name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"],
    "tickets": [
        "content",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_category",
        "hs_ticket_priority",
        "subject",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ],
    "tasks": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
}
ALWAYS_RETURNED = {k: [CREATED_PROP[k], MODIFIED_PROP[k], "hs_object_id"] for k in KINDS}
GROUPS = {
    "contacts": ("contactinformation", "Contact information"),
    "companies": ("companyinformation", "Company information"),
    "deals": ("dealinformation", "Deal information"),
    "tickets": ("ticketinformation", "Ticket information"),
    "tasks": ("task", "Task information"),
}
INDUSTRIES = [
    "COMPUTER_SOFTWARE",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "RETAIL",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
    "MACHINERY",
    "INSURANCE",
    "TELECOMMUNICATIONS",
    "REAL_ESTATE",
    "FOOD_BEVERAGES",
]
TASK_STATUSES = ["NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"]
READ_ONLY = {
    "hs_object_id",
    "hs_lastmodifieddate",
    "lastmodifieddate",
    "hs_createdate",
    "hs_is_closed_won",
    "hs_is_closed",
    "hs_deal_stage_probability",
}
_TYPES = {
    "string": "text",
    "number": "number",
    "datetime": "date",
    "date": "date",
    "bool": "booleancheckbox",
    "enumeration": "select",
    "phone_number": "phonenumber",
}

# name -> (label, type, options); fieldType follows type, group is the kind's main group
_Spec = tuple[str, str, list[str] | None]
_COMMON: dict[str, _Spec] = {
    "hs_object_id": ("Record ID", "number", None),
    "hubspot_owner_id": ("Owner", "enumeration", None),
}
_SPECS: dict[str, dict[str, _Spec]] = {
    "deals": {
        "dealname": ("Deal Name", "string", None),
        "amount": ("Amount", "number", None),
        "closedate": ("Close Date", "datetime", None),
        "pipeline": ("Pipeline", "enumeration", ["default"]),
        "dealstage": ("Deal Stage", "enumeration", [s[0] for s in DEAL_STAGES]),
        "dealtype": ("Deal Type", "enumeration", ["newbusiness", "existingbusiness"]),
        "description": ("Deal Description", "string", None),
        "hs_priority": ("Priority", "enumeration", ["low", "medium", "high"]),
        "createdate": ("Create Date", "datetime", None),
        "hs_lastmodifieddate": ("Last Modified Date", "datetime", None),
        "hs_is_closed_won": ("Is Closed Won", "bool", None),
        "hs_is_closed": ("Is Deal Closed?", "bool", None),
        "hs_deal_stage_probability": ("Deal probability", "number", None),
    },
    "companies": {
        "name": ("Company name", "string", None),
        "domain": ("Company Domain Name", "string", None),
        "website": ("Website URL", "string", None),
        "numberofemployees": ("Number of Employees", "number", None),
        "industry": ("Industry", "enumeration", INDUSTRIES),
        "annualrevenue": ("Annual Revenue", "number", None),
        "city": ("City", "string", None),
        "country": ("Country/Region", "string", None),
        "phone": ("Phone Number", "phone_number", None),
        "description": ("Description", "string", None),
        "lifecyclestage": (
            "Lifecycle Stage",
            "enumeration",
            [
                "subscriber",
                "lead",
                "marketingqualifiedlead",
                "salesqualifiedlead",
                "opportunity",
                "customer",
                "evangelist",
                "other",
            ],
        ),
        "createdate": ("Create Date", "datetime", None),
        "hs_lastmodifieddate": ("Last Modified Date", "datetime", None),
    },
    "contacts": {
        "firstname": ("First Name", "string", None),
        "lastname": ("Last Name", "string", None),
        "email": ("Email", "string", None),
        "phone": ("Phone Number", "phone_number", None),
        "jobtitle": ("Job Title", "string", None),
        "company": ("Company Name", "string", None),
        "lifecyclestage": (
            "Lifecycle Stage",
            "enumeration",
            [
                "subscriber",
                "lead",
                "marketingqualifiedlead",
                "salesqualifiedlead",
                "opportunity",
                "customer",
                "evangelist",
                "other",
            ],
        ),
        "createdate": ("Create Date", "datetime", None),
        "lastmodifieddate": ("Last Modified Date", "datetime", None),
        "hs_lastmodifieddate": ("Object last modified date/time", "datetime", None),
    },
    "tickets": {
        "subject": ("Ticket name", "string", None),
        "content": ("Ticket description", "string", None),
        "hs_pipeline": ("Pipeline", "enumeration", ["0"]),
        "hs_pipeline_stage": ("Ticket status", "enumeration", [s[0] for s in TICKET_STAGES]),
        "hs_ticket_category": (
            "Category",
            "enumeration",
            ["PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"],
        ),
        "hs_ticket_priority": ("Priority", "enumeration", ["LOW", "MEDIUM", "HIGH", "URGENT"]),
        "source_type": ("Source", "enumeration", ["EMAIL", "CHAT", "PHONE", "FORM"]),
        "closed_date": ("Close date", "datetime", None),
        "createdate": ("Create date", "datetime", None),
        "hs_lastmodifieddate": ("Last modified date", "datetime", None),
    },
    "tasks": {
        "hs_timestamp": ("Due date", "datetime", None),
        "hs_task_subject": ("Task Title", "string", None),
        "hs_task_body": ("Notes", "string", None),
        "hs_task_status": ("Task Status", "enumeration", TASK_STATUSES),
        "hs_task_priority": ("Priority", "enumeration", ["NONE", "LOW", "MEDIUM", "HIGH"]),
        "hs_task_type": ("Task Type", "enumeration", ["EMAIL", "CALL", "TODO", "LINKED_IN"]),
        "hs_task_completion_date": ("Completed at", "datetime", None),
        "hs_task_reminders": ("Reminder", "string", None),
        "hs_createdate": ("Created at", "datetime", None),
        "hs_lastmodifieddate": ("Last Modified Date", "datetime", None),
    },
}


def property_definition(
    kind: str, name: str, label: str, type_: str, options: list[str] | None, created_at: str, order: int
) -> dict[str, Any]:
    """A built-in (``hubspotDefined``) property in the wire format of ``GET /crm/v3/properties``."""
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": _TYPES[type_],
        "groupName": GROUPS[kind][0],
        "description": "",
        "displayOrder": order,
        "hidden": False,
        "formField": name not in READ_ONLY,
        "calculated": name in READ_ONLY - {"hs_object_id"},
        "externalOptions": name == "hubspot_owner_id",
        "hasUniqueValue": False,
        "hubspotDefined": True,
        "archived": False,
        "createdAt": created_at,
        "updatedAt": created_at,
        "options": [
            {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options or [])
        ],
        "modificationMetadata": {
            "archivable": False,
            "readOnlyDefinition": True,
            "readOnlyValue": name in READ_ONLY,
        },
        **({"referencedObjectType": "OWNER"} if name == "hubspot_owner_id" else {}),
    }


def builtin_properties(kind: str, created_at: str) -> dict[str, dict[str, Any]]:
    specs = {**_SPECS[kind], **_COMMON}
    return {
        name: property_definition(kind, name, label, t, opts, created_at, i)
        for i, (name, (label, t, opts)) in enumerate(specs.items())
    }


def builtin_groups(kind: str) -> dict[str, dict[str, Any]]:
    name, label = GROUPS[kind]
    return {name: {"name": name, "label": label, "displayOrder": 0, "archived": False}}


__all__ = [
    "ASSOCIATION_TYPES",
    "DEFAULT_PROPERTIES",
    "DEFAULT_TYPE",
    "INVERSE_TYPE",
    "KINDS",
    "OBJECT_TYPE_IDS",
    "SINGULAR",
    "builtin_groups",
    "builtin_properties",
    "pipelines",
    "resolve_kind",
    "v3_type_name",
]
