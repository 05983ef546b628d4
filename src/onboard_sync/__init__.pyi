"""Type stub of the package's lazily imported names: ``lazy_loader.attach_stub`` reads this list, type
checkers read it as the module."""

from .connector import (
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
from .errors import (
    ApiError,
    AuthError,
    ConfigError,
    RateLimitExhausted,
    SchemaError,
    UnknownPropertiesError,
    UserError,
)
from .hookspecs import hookimpl
from .records import Account, Contact, Deal, ObjectKind, Owner, Signal, Task, TaskStatus, Ticket

__version__ = "0.1.0"

__version__: str

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
