"""Mapping files: validation errors name file:line; reads normalise into canonical string values."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.mappings import load_mapping
from onboard_sync.plugins import transforms
from onboard_sync.records import Account, ObjectKind


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hubspot.toml").write_text(text)
    return tmp_path


def test_read_transforms_keep_property_values_as_strings(tmp_path: Path) -> None:
    folder = _write(tmp_path, '[account.read]\nnps = { property = "nps_score", transform = "float" }\n')
    mapping = load_mapping(folder, "hubspot", "hubspot", transforms())
    account = Account(source="hubspot", id="1", updated_at=datetime.now(UTC), name="A", properties={"nps_score": "9"})
    normalised = mapping.normalise(ObjectKind.ACCOUNT, account)
    assert normalised.properties["nps"] == "9.0"
    assert normalised.properties["nps_score"] == "9"
    assert mapping.read_options().for_kind(ObjectKind.ACCOUNT) == ("nps_score",)


def test_write_mapping_turns_canonical_values_into_crm_properties(tmp_path: Path) -> None:
    folder = _write(tmp_path, '[deal.write]\nphase = "onboarding_phase"\nhealth_score = "onb_health"\n')
    mapping = load_mapping(folder, "hubspot", "hubspot", transforms())
    assert mapping.to_crm(ObjectKind.DEAL, {"phase": "kickoff", "health_score": "80", "day": "3"}) == {
        "onboarding_phase": "kickoff",
        "onb_health": "80",
    }
    assert mapping.phase_property() == "onboarding_phase"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[deal.write]\nphase = "p"\nhelth_score = "x"\n', 3, "unknown onboarding field 'helth_score'"),
        ('[deals.write]\nphase = "p"\n', 1, "unknown object 'deals'"),
        ('[deal.write]\nphase = "p"\nstatus = "p"\n', 3, "mapped twice"),
        ('[account.read]\nnps = { property = "n", transform = "sqrt" }\n', 2, "unknown transform 'sqrt'"),
        ("[deal.write]\nphase = 3\n", 2, "expected a CRM property name"),
    ],
)
def test_bad_mappings_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    folder = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_mapping(folder, "hubspot", "hubspot", transforms())
    assert info.value.where is not None
    assert info.value.where.split(" ")[0].endswith(f"hubspot.toml:{line}")
    assert message in info.value.message


def test_the_shipped_default_mapping_loads_when_no_file_exists(tmp_path: Path) -> None:
    mapping = load_mapping(tmp_path, "hubspot", "hubspot", transforms())
    assert mapping.phase_property() == "onboarding_phase"
    assert "health_status" in mapping.for_kind(ObjectKind.ACCOUNT).write
