"""Import file columns and cells: header mapping, cell values, the formula guard."""

from __future__ import annotations

import pytest

from store.errors import FieldError
from store.imports.csv_format import Column, guard, parse_header, to_item, unguard


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("email", "email"),
        ("firstName", "firstName"),
        ("first_name", "firstName"),
        ("First Name", "firstName"),
        ("LAST_NAME", "lastName"),
        ("assigned_to", "assignedTo"),
        ("customFields", "customFields"),
        (" tags ", "tags"),
    ],
)
def test_headers_in_camel_or_snake_case_map_to_fields(name: str, field: str) -> None:
    others = [required for required in ("email", "firstName", "lastName") if required != field]
    columns = parse_header([name, *others])
    assert columns[0] == Column(field)


def test_required_columns_must_be_there() -> None:
    assert parse_header(["email", "company"]) == [
        FieldError("header.firstName", "Required column is missing"),
        FieldError("header.lastName", "Required column is missing"),
    ]


def test_custom_field_columns_keep_their_key() -> None:
    columns = parse_header(["email", "firstName", "lastName", "customFields.Role", "custom_fields.seats"])
    assert columns[3:] == [Column("customFields", "Role"), Column("customFields", "seats")]
    assert (
        parse_header(["email", "firstName", "lastName", "customFields."])[0].field == "header.customFields."
    )  # type: ignore[union-attr]


def test_read_only_unknown_and_repeated_columns_are_errors() -> None:
    errors = parse_header(["id", "email", "Email", "firstName", "lastName", "createdAt", "nickname"])
    assert errors == [
        FieldError("header.id", "Unknown or read-only column"),
        FieldError("header.Email", "Column given more than once"),
        FieldError("header.createdAt", "Unknown or read-only column"),
        FieldError("header.nickname", "Unknown or read-only column"),
    ]


COLUMNS = parse_header(
    ["email", "firstName", "lastName", "score", "tags", "customFields", "customFields.x", "phone"]
)


def test_cells_become_typed_lead_values() -> None:
    cells = ["a@example.com", "Ann", "Lee", " 7 ", " x; y ;", '{"k": 1}', "v", "'+1-555-0199"]
    assert to_item(COLUMNS, cells) == {  # type: ignore[arg-type]
        "email": "a@example.com",
        "firstName": "Ann",
        "lastName": "Lee",
        "score": 7,
        "tags": ["x", "y"],
        "customFields": {"k": 1, "x": "v"},
        "phone": "+1-555-0199",
    }


def test_empty_cells_are_not_given_and_blank_records_are_skipped() -> None:
    assert to_item(COLUMNS, ["a@example.com", "Ann", "Lee", "", "", "", "", ""]) == {  # type: ignore[arg-type]
        "email": "a@example.com",
        "firstName": "Ann",
        "lastName": "Lee",
    }
    assert to_item(COLUMNS, ["", " ", ""]) is None  # type: ignore[arg-type]
    assert to_item(COLUMNS, []) is None  # type: ignore[arg-type]


def test_cell_level_errors() -> None:
    assert to_item(COLUMNS, ["a", "b", "c", "", "", "[1]"]) == [  # type: ignore[arg-type]
        FieldError("customFields", "Must be a JSON object")
    ]
    too_long = ["a", "b", "c", "", "", "", "", "", "surplus"]
    assert to_item(COLUMNS, too_long) == [FieldError("row", "Has more cells than the header's 8 columns")]  # type: ignore[arg-type]
    assert to_item(COLUMNS, ["a", "b", "c", "seven"]) == {
        "email": "a",
        "firstName": "b",
        "lastName": "c",
        "score": "seven",
    }  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_guard_and_unguard_round_trip(text: str) -> None:
    assert guard(text) == "'" + text
    assert unguard(guard(text)) == text


@pytest.mark.parametrize("text", ["plain", "'quoted", "", "a=b", "'"])
def test_harmless_cells_are_left_alone(text: str) -> None:
    assert guard(text) == text
    assert unguard(text) == text
