"""`batches`: batch summaries of the chosen types go back to PENDING together with their GSI1PK."""

from __future__ import annotations

import pytest
from builders import all_items, batch, make_table, put_items, word

STATUSES = ["VALIDATING", "IN_PROGRESS", "FINALIZING", "COMPLETED", "FAILED", "EXPIRED", "CANCELING", "CANCELLED"]
TYPES = ["WORD_EMBEDDING", "LINE_EMBEDDING", "COMPLETION", "EMBEDDING"]


def summaries() -> list[dict]:
    """Per batch type: one summary in each non-PENDING status, two already PENDING, one PENDING with a stale
    GSI1PK (its status moved without the index key)."""
    items = []
    for batch_type in TYPES:
        tag = batch_type.lower()
        items += [batch(f"{tag}-{status.lower()}", batch_type, status) for status in STATUSES]
        items += [batch(f"{tag}-pending-{n}", batch_type, "PENDING") for n in range(2)]
        items.append({**batch(f"{tag}-stale", batch_type, "PENDING"), "GSI1PK": "STATUS#COMPLETED"})
    return items


# Per type: 8 statuses + 1 stale to change; 2 already PENDING.
TO_CHANGE, ALREADY = len(STATUSES) + 1, 2
OTHERS = [word("3f52804b-2fad-4e00-92c8-b593da3a8ed3", 1, 1, 1, "SUCCESS")]


def expected_after(items: list[dict], batch_types: set[str]) -> list[dict]:
    out = []
    for item in items:
        if item.get("TYPE") == "BATCH_SUMMARY" and item["batch_type"] in batch_types:
            item = {**item, "status": "PENDING", "GSI1PK": "STATUS#PENDING"}
        out.append(item)
    return out


@pytest.fixture
def table(aws):
    ddb = aws.client("dynamodb")
    name = make_table(ddb)
    put_items(ddb, name, summaries() + OTHERS)
    before = all_items(ddb, name)
    assert len(before) == len(summaries() + OTHERS)
    return {"ddb": ddb, "name": name, "before": before, "args": ["--table", name, "--yes", "--json"]}


def test_word_embedding_summaries_reset_and_other_types_untouched(table, cli):
    result = cli("batches", *table["args"])

    assert result.exit_code == 0, result.stderr
    # every attribute of every item, receipt_refs and GSI1SK included; no item created
    assert all_items(table["ddb"], table["name"]) == expected_after(table["before"], {"WORD_EMBEDDING"})
    doc = result.json()
    assert (doc["command"], doc["status"]) == ("batches", "ok")
    (step,) = doc["steps"]
    assert step["step"] == "batches"
    assert (step["planned"], step["changed"], step["unchanged"], step["skipped"], step["failed"]) == (
        TO_CHANGE,
        TO_CHANGE,
        ALREADY,
        0,
        0,
    )


def test_repeated_batch_type_resets_each_named_type(table, cli):
    result = cli("batches", "--batch-type", "LINE_EMBEDDING", "--batch-type", "WORD_EMBEDDING", *table["args"])

    assert result.exit_code == 0, result.stderr
    expected = expected_after(table["before"], {"WORD_EMBEDDING", "LINE_EMBEDDING"})
    assert all_items(table["ddb"], table["name"]) == expected
    step = result.json()["steps"][0]
    assert (step["planned"], step["changed"], step["unchanged"]) == (2 * TO_CHANGE, 2 * TO_CHANGE, 2 * ALREADY)


def test_one_other_type_alone(table, cli):
    result = cli("batches", "--batch-type", "COMPLETION", *table["args"])

    assert result.exit_code == 0, result.stderr
    assert all_items(table["ddb"], table["name"]) == expected_after(table["before"], {"COMPLETION"})


def test_second_run_changes_nothing(table, cli):
    assert cli("batches", *table["args"]).exit_code == 0
    between = all_items(table["ddb"], table["name"])

    again = cli("batches", *table["args"])
    human = cli("batches", *table["args"][:-1])

    assert again.exit_code == 0 and human.exit_code == 0
    assert all_items(table["ddb"], table["name"]) == between
    step = again.json()["steps"][0]
    assert (step["planned"], step["changed"], step["unchanged"]) == (0, 0, TO_CHANGE + ALREADY)
    assert "nothing to change" in human.stdout
