"""The checks that keep mappings and owner roles from damaging the CRM (``onboard_sync.checks``) and the
field writes that survive a property deleted mid-run (``sync.fieldwrites``), without a CRM."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from onboard_sync.checks import (
    check_owner_roles,
    check_owners_exist,
    check_properties,
    expand_aliases,
    owner_properties,
)
from onboard_sync.config import AppConfig, CoreSettings
from onboard_sync.connector import FieldWrite, PropertySchema, WriteResult
from onboard_sync.errors import ApiError, ConfigError, UnknownPropertiesError
from onboard_sync.mappings import MappingSet, load_mapping
from onboard_sync.plugins import transforms
from onboard_sync.records import ObjectKind, Owner
from onboard_sync.rules import Playbook, default_playbook_path, load_playbook
from onboard_sync.schema import property_specs
from onboard_sync.sync import fieldwrites


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(default_playbook_path())


def mapping(tmp_path: Path, text: str) -> MappingSet:
    (tmp_path / "hubspot.toml").write_text(text, encoding="utf-8")
    return load_mapping(tmp_path, "hubspot", "hubspot", transforms())


def prop(name: str, type_: str = "string", **kwargs: Any) -> PropertySchema:
    return PropertySchema(name=name, label=kwargs.pop("label", name), type=type_, **kwargs)


def problems_of(tmp_path: Path, line: str, found: PropertySchema, playbook: Playbook) -> list[str]:
    mapped = mapping(tmp_path, f"[deal.write]\n{line}\n")
    schemas = {ObjectKind.DEAL: {found.name: found}}
    return [str(p) for p in check_properties(mapped, schemas, playbook, crm="hubspot")]


PHASES = load_playbook(default_playbook_path()).phase_keys()


@pytest.mark.parametrize(
    ("line", "found", "expected"),
    [
        # built into the CRM: refused unless the line allows it
        ('health_score = "dealname"', prop("dealname", label="Deal Name", built_in=True), "is not onboard-sync's"),
        ('health_score = { property = "dealname", allow_overwrite = true }', prop("dealname", built_in=True), None),
        # a custom property: onboard-sync's when setup made it or it has setup's label
        ('health_score = "score"', prop("score", "number", created_by_setup=True), None),
        ('health_score = "score"', prop("score", "number", label="Onboarding health score"), None),
        ('health_score = "score"', prop("score", "number", label="Lead score"), "not created by `onboard-sync setup`"),
        # what the property can hold
        ('health_score = "x"', prop("x", "date", created_by_setup=True), "has type 'date', which cannot hold"),
        ('go_live_date = "x"', prop("x", "datetime", created_by_setup=True), None),
        ('go_live_date = "x"', prop("x", "number", created_by_setup=True), "cannot hold go_live_date (a date)"),
        ('next_step = "x"', prop("x", "enumeration", options=PHASES, created_by_setup=True), "(free text)"),
        ('phase = "x"', prop("x", "enumeration", options=PHASES, created_by_setup=True), None),
        ('phase = "x"', prop("x", "enumeration", options=PHASES[:-1], created_by_setup=True), "option(s) completed"),
        ('phase = { property = "x", transform = "upper" }', prop("x", "enumeration", options=PHASES), "HANDOFF"),
        ('health_status = "x"', prop("x", "bool", created_by_setup=True), "has type 'bool'"),
        ('phase = "x"', prop("x", "string", read_only=True, created_by_setup=True), "is read-only"),
        ('phase = "nowhere"', prop("x"), "'nowhere' does not exist on hubspot deal records; run `onboard-sync setup`"),
        ('phase = { property = "no", allow_overwrite = true }', prop("x"), "deal records; check the name"),
    ],
)
def test_each_mapped_property_must_exist_hold_the_values_and_be_onboard_syncs(
    tmp_path: Path, playbook: Playbook, line: str, found: PropertySchema, expected: str | None
) -> None:
    problems = problems_of(tmp_path, line, found, playbook)

    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert problems[0].startswith(f"{tmp_path / 'hubspot.toml'}:2 (deal.write."), problems[0]
        assert expected in problems[0]


def test_a_read_property_must_exist_and_kinds_not_described_are_not_checked(tmp_path: Path, playbook: Playbook) -> None:
    mapped = mapping(tmp_path, '[account.read]\nnps = "nps_score"\n[deal.write]\nphase = "p"\n')
    problems = check_properties(mapped, {ObjectKind.ACCOUNT: {}}, playbook, crm="hubspot")
    assert [p.message for p in problems] == [
        "CRM property 'nps_score' does not exist on hubspot account records; check the name"
    ]


def test_allow_overwrite_loads_from_one_line_and_only_on_write_lines(tmp_path: Path, playbook: Playbook) -> None:
    text = '[deal.write]\nphase = "onboarding_phase"\nnext_step = { property = "nextstep", allow_overwrite = true }\n'
    mapped = mapping(tmp_path, text)
    assert mapped.for_kind(ObjectKind.DEAL).write["next_step"].allow_overwrite
    assert [s.name for s in property_specs(mapped, playbook)] == ["onboarding_phase"], "setup leaves it alone"
    for text, message in [
        ('[deal.write]\nphase = { property = "p", allow_overwrite = "yes" }\n', "expected true or false, got 'yes'"),
        ('[deal.read]\nnps = { property = "p", allow_overwrite = true }\n', "only applies to [*.write] lines"),
    ]:
        with pytest.raises(ConfigError) as refused:
            mapping(tmp_path, text)
        assert message in refused.value.message
        assert str(refused.value.where).split(" ")[0].endswith("hubspot.toml:2")


# --- [owners] -----------------------------------------------------------------------------------


def config(owners: dict[str, Any]) -> AppConfig:
    return AppConfig(
        path=None, base_dir=Path("."), core=CoreSettings(), owners=owners, connectors={}, store_url="sqlite://"
    )


ROLES = ("sales", "csm", "tam", "support")


def digits(value: str) -> bool:
    return value.isdigit()


def test_owner_roles_that_resolve_pass_and_name_their_owners_for_the_remote_check() -> None:
    owners = {
        "sales": "deal_owner",
        "csm": ["ana@example.test", "42"],
        "tam": "csm",  # an alias of a declared role
        "support": "property:support_owner",
        "account_manager": "account_owner",
    }
    problems, refs = check_owner_roles(config(owners), ROLES, digits)
    assert problems == []
    assert [(r.role, r.value) for r in refs] == [("csm", "ana@example.test"), ("csm", "42")]


@pytest.mark.parametrize(
    ("owners", "message"),
    [
        ({"csm": "deal_ownr"}, "'deal_ownr' is neither a role (csm, sales, support, tam), deal_owner, account_owner"),
        ({"csm": "deal_ownr"}, "(did you mean 'deal_owner'?)"),
        ({"csm": ["ana@example.test", "deal_owner"]}, "'deal_owner' in this list is neither an owner's e-mail nor"),
        ({"csm": []}, "an empty list"),
        ({"csm": "property:"}, "'property:' names no property"),
        ({"csm": "tam", "tam": "csm"}, "roles name each other in a loop (csm → tam → csm)"),
    ],
)
def test_owner_roles_that_resolve_to_nothing_are_refused_offline(owners: dict[str, Any], message: str) -> None:
    problems, _ = check_owner_roles(config(owners), ROLES, digits)
    assert any(message in p.message and p.where == "owners.csm" for p in problems), problems


def test_aliases_expand_to_what_their_role_resolves_to() -> None:
    owners = {"csm": ["ana@example.test"], "tam": "csm", "support": "sales", "loop": "loop2", "loop2": "loop"}
    assert expand_aliases(owners, ROLES) == {
        "csm": ["ana@example.test"],
        "tam": ["ana@example.test"],
        "support": "deal_owner",  # sales is declared but not configured: the deal's owner
        "loop": "deal_owner",
        "loop2": "deal_owner",
    }


def test_named_owners_must_be_active_owners_of_the_crm() -> None:
    _, refs = check_owner_roles(config({"csm": ["Ana@Example.test", "42", "7", "gone@example.test"]}), ROLES, digits)
    owners = {
        "42": Owner("hubspot", "42", "bob@example.test", "Bob"),
        "7": Owner("hubspot", "7", "old@example.test", "Old", active=False),
        "9": Owner("hubspot", "9", "ana@example.test", "Ana"),
    }
    problems = check_owners_exist(refs, owners, "hubspot")
    assert [p.message for p in problems] == [
        "'7' is not an active owner in hubspot (no owner has this e-mail or id)",
        "'gone@example.test' is not an active owner in hubspot (no owner has this e-mail or id)",
    ]


# --- a property deleted mid-run ---------------------------------------------------------------------


class Crm:
    """Field writes against properties that do not exist: refused as a whole, or per record."""

    def __init__(self, missing: set[str], *, whole_batch: bool) -> None:
        self.missing = missing
        self.whole_batch = whole_batch
        self.sent: list[list[dict[str, str | None]]] = []

    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        self.sent.append([dict(w.values) for w in batch])
        unknown = [sorted(self.missing & set(w.values)) for w in batch]
        if self.whole_batch and any(unknown):
            raise UnknownPropertiesError(tuple(sorted({n for names in unknown for n in names})))
        return [
            WriteResult(w.key, ok=not names, error="missing" if names else None, unknown_properties=tuple(names))
            for w, names in zip(batch, unknown, strict=True)
        ]


def writes() -> list[FieldWrite]:
    return [
        FieldWrite("a", ObjectKind.DEAL, "1", {"phase": "kickoff", "day": "3"}),
        FieldWrite("b", ObjectKind.DEAL, "2", {"phase": "training"}),
        FieldWrite("c", ObjectKind.DEAL, "3", {"day": "9"}),
    ]


@pytest.mark.parametrize("whole_batch", [True, False], ids=["whole-batch", "per-record"])
def test_a_missing_property_is_left_out_and_the_rest_written(whole_batch: bool) -> None:
    crm = Crm({"day"}, whole_batch=whole_batch)
    gone: set[str] = set()

    outcomes = fieldwrites.write_fields(crm, ObjectKind.DEAL, writes(), gone)

    assert [(o.result.key, o.result.ok, dict(o.written), o.dropped) for o in outcomes] == [
        ("a", True, {"phase": "kickoff"}, ("day",)),
        ("b", True, {"phase": "training"}, ()),
        ("c", False, {}, ("day",)),  # nothing left to write
    ]
    assert "CRM property 'day' does not exist any more" in outcomes[0].dropped_error()
    assert "its other fields were written" in outcomes[0].dropped_error()
    assert "CRM property 'day' does not exist any more" in (outcomes[2].result.error or "")
    assert crm.sent[-1] == [{"phase": "kickoff"}] + ([{"phase": "training"}] if whole_batch else [])
    assert gone == {"day"}

    later = Crm({"day"}, whole_batch=whole_batch)
    fieldwrites.write_fields(later, ObjectKind.DEAL, writes(), gone)
    assert later.sent == [[{"phase": "kickoff"}, {"phase": "training"}]], "a later batch leaves it out at once"


def test_other_failures_are_not_retried() -> None:
    class Down:
        calls = 0

        def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
            self.calls += 1
            raise ApiError("HTTP 503", status=503)

    down = Down()
    with pytest.raises(ApiError):
        fieldwrites.write_fields(down, ObjectKind.DEAL, writes())
    assert down.calls == 1

    class Refusing:
        def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
            return [WriteResult(w.key, ok=False, error="INVALID_OPTION") for w in batch]

    outcomes = fieldwrites.write_fields(Refusing(), ObjectKind.DEAL, writes())
    assert [(o.result.ok, o.result.error, o.dropped) for o in outcomes] == [(False, "INVALID_OPTION", ())] * 3


def test_property_roles_are_read_with_deals_and_accounts(tmp_path: Path) -> None:
    owners = {"csm": "property:csm_owner", "tam": "property:csm_owner", "sales": "deal_owner", "x": ["1"]}
    assert owner_properties(owners) == ("csm_owner",)
    mapped = mapping(tmp_path, '[deal.write]\nphase = "onboarding_phase"\n')
    options = mapped.read_options(owner_properties(owners))
    assert options.for_kind(ObjectKind.DEAL) == ("onboarding_phase", "csm_owner")
    assert options.for_kind(ObjectKind.ACCOUNT) == ("csm_owner",)
    assert mapped.read_options().for_kind(ObjectKind.ACCOUNT) == ()
