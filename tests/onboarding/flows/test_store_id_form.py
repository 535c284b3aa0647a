"""The store-ID form and its checks, as plain functions (the flow tests drive them
through Prefect)."""

from __future__ import annotations

from flows.store_ids import answer_by_site, form_description, problems_with, store_id_form

CROWN = {
    "id": 1,
    "name": "The Crown",
    "address": "1 High St",
    "reference": "crown",
    "store_id": None,
}
ANCHOR = {
    "id": 2,
    "name": "The Anchor",
    "address": "2 Quay St",
    "reference": "anchor",
    "store_id": None,
}
OLD_BELL = {
    "id": 3,
    "name": "The Old Bell",
    "address": "3 Church Rd",
    "reference": "bell",
    "store_id": "PLR-9",
}
SCOPE = [CROWN, ANCHOR]
ACCOUNT = [CROWN, ANCHOR, OLD_BELL]


def test_form_has_one_field_per_site_labelled_with_its_name() -> None:
    schema = store_id_form(SCOPE).model_json_schema()
    assert {name: field["title"] for name, field in schema["properties"].items()} == {
        "site_1": "The Crown",
        "site_2": "The Anchor",
    }
    assert set(schema["required"]) == {"site_1", "site_2"}


def test_answer_is_read_per_site_and_trimmed() -> None:
    form = store_id_form(SCOPE)
    answer = form(site_1=" PLR-1 ", site_2="PLR-2")
    assert answer_by_site(answer, SCOPE) == {1: "PLR-1", 2: "PLR-2"}


def test_good_answer_has_no_problems() -> None:
    assert problems_with({1: "PLR-1", 2: "PLR-2"}, SCOPE, ACCOUNT) == []


def test_missing_duplicate_and_used_store_ids_are_each_explained() -> None:
    assert problems_with({1: "", 2: "PLR-2"}, SCOPE, ACCOUNT) == [
        "The Crown: a store ID is required."
    ]
    assert problems_with({1: "PLR-1", 2: "PLR-1"}, SCOPE, ACCOUNT) == [
        "Store ID 'PLR-1' is given to more than one site: The Crown, The Anchor."
    ]
    assert problems_with({1: "PLR-9", 2: "PLR-2"}, SCOPE, ACCOUNT) == [
        "The Crown: store ID 'PLR-9' is already used by The Old Bell."
    ]


def test_form_description_lists_the_reasons_of_the_last_answer() -> None:
    text = form_description("Crown Inns", ["The Crown: a store ID is required."])
    assert "Crown Inns" in text and "- The Crown: a store ID is required." in text
    assert "not used" not in form_description("Crown Inns", [])


def test_each_problem_names_the_sites_it_is_about() -> None:
    # The ledger's store-ID page shows each reason beside these fields.
    from contract.store_ids import store_id_problems

    problems = store_id_problems({1: "PLR-1", 2: "PLR-1"}, SCOPE, ACCOUNT)
    assert [(p.site_ids, p.message) for p in problems] == [
        ((1, 2), "Store ID 'PLR-1' is given to more than one site: The Crown, The Anchor.")
    ]
    (used,) = store_id_problems({1: "PLR-9", 2: ""}, SCOPE, ACCOUNT)[1:]
    assert used.site_ids == (1,)


def test_a_store_id_the_ledger_would_refuse_is_asked_again() -> None:
    # The admin API saves up to 64 printable ASCII characters: anything else would pass
    # the form and then fail "save store IDs".
    assert problems_with({1: "P" * 65, 2: "PLR-Ä"}, SCOPE, ACCOUNT) == [
        "The Crown: a store ID is at most 64 characters of letters, digits, spaces and "
        "punctuation (no accents or symbols).",
        "The Anchor: a store ID is at most 64 characters of letters, digits, spaces and "
        "punctuation (no accents or symbols).",
    ]
    assert problems_with({1: "P" * 64, 2: "PLR 2/b"}, SCOPE, ACCOUNT) == []
