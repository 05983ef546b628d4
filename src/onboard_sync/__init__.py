"""onboard-sync: turn customer-onboarding playbooks into live CRM and helpdesk automation.

The public API for plugin authors: the ``hookimpl`` marker, the ``Connector`` base class
and its data types, the canonical records and the error types.
"""

from onboard_sync.connector import (
    ApiCaller,
    Capability,
    Connector,
    ConnectorSettings,
    FieldWrite,
    Page,
    PropertySchema,
    PropertySpec,
    RateLimit,
    ReadOptions,
    SetupAction,
    TaskPatch,
    TaskWrite,
    WriteResult,
)
from onboard_sync.errors import (
    ApiError,
    AuthError,
    ConfigError,
    RateLimitExhausted,
    SchemaError,
    UnknownPropertiesError,
    UserError,
)
from onboard_sync.hookspecs import hookimpl
from onboard_sync.records import Account, Contact, Deal, ObjectKind, Owner, Signal, Task, TaskStatus, Ticket

__version__ = "0.1.0"

__all__ = [
    "Account",
    "ApiCaller",
    "ApiError",
    "AuthError",
    "Capability",
    "ConfigError",
    "Connector",
    "ConnectorSettings",
    "Contact",
    "Deal",
    "FieldWrite",
    "ObjectKind",
    "Owner",
    "Page",
    "PropertySchema",
    "PropertySpec",
    "RateLimit",
    "RateLimitExhausted",
    "ReadOptions",
    "SchemaError",
    "SetupAction",
    "Signal",
    "Task",
    "TaskPatch",
    "TaskStatus",
    "TaskWrite",
    "Ticket",
    "UnknownPropertiesError",
    "UserError",
    "WriteResult",
    "__version__",
    "hookimpl",
]
