"""`embeddings`: word (or line) statuses go back to NONE together with their GSI1PK; nothing else moves."""

from __future__ import annotations

import json
import threading
import time

import pytest
from builders import all_items, batch, line, lock, make_table, put_items, word
from fault_proxy import Rule, drop_connection, is_target, json_error

IMAGES = ["3f52804b-2fad-4e00-92c8-b593da3a8ed3", "9c0e6a51-7d1b-4f4e-a0a5-2b3c4d5e6f70"]
UPDATE = "DynamoDB_20120810.UpdateItem"


def words_with(counts: dict[str, int], image: str = IMAGES[0], receipt: int = 1, **extra) -> list[dict]:
    """`counts[status]` words of each status, each with its own key."""
    items, number = [], 0
    for status, count in counts.items():
        for _ in range(count):
            number += 1
            items.append(word(image, receipt, number // 100 + 1, number % 100, status, **extra))
    return items


def stale(item: dict, gsi1pk: str) -> dict:
    """A row whose status moved without its index key: the bug the reset rule exists for."""
    return {**item, "GSI1PK": gsi1pk}


def expected_after(items: list[dict], item_type: str, *, include_noise: bool = False) -> list[dict]:
    """The table as the reset rule says it must look: only status and GSI1PK of the targeted items move."""
    out = []
    for item in items:
        if item["TYPE"] == item_type and (include_noise or item["embedding_status"] != "NOISE"):
            item = {**item, "embedding_status": "NONE", "GSI1PK": "EMBEDDING_STATUS#NONE"}
        out.append(item)
    return out


def key_of(item: dict) -> str:
    return f"{item['PK']} {item['SK']}"


def update_key(req) -> str | None:
    if not is_target("UpdateItem")(req):
        return None
    key = json.loads(req.body)["Key"]
    return f"{key['PK']['S']} {key['SK']['S']}"


# A table as in the real system: words of every status (one NONE row with a stale GSI1PK), lines, a receipt,
# batch summaries and a lock, so "nothing else changes" is checked against every kind of item.
MIXED_WORDS = words_with({"SUCCESS": 10, "FAILED": 4, "PENDING": 3, "NONE": 5, "NOISE": 3}) + [
    stale(word(IMAGES[1], 2, 1, 1, "NONE"), "EMBEDDING_STATUS#SUCCESS"),
    stale(word(IMAGES[1], 2, 1, 2, "NONE"), "EMBEDDING_STATUS#PENDING"),
    word(IMAGES[1], 2, 1, 3, "SUCCESS", GSI1SK=f"WORD#IMAGE#{IMAGES[1]}#RECEIPT#00002#LINE#00001#WORD#00003"),
]
# SUCCESS 10 + FAILED 4 + PENDING 3 + 2 stale NONE + 1 newer-form SUCCESS
MIXED_PLANNED, MIXED_UNCHANGED, MIXED_NOISE = 20, 5, 3
LINES = [line(IMAGES[0], 1, n, status) for n, status in enumerate(["SUCCESS", "SUCCESS", "FAILED", "NONE", "NOISE"], 1)]
OTHERS = [
    {
        "PK": f"IMAGE#{IMAGES[0]}",
        "SK": "RECEIPT#00001",
        "TYPE": "RECEIPT",
        "timestamp_added": "2025-11-15T17:18:18+00:00",
    },
    batch("b-1", "WORD_EMBEDDING", "COMPLETED"),
    batch("b-2", "LINE_EMBEDDING", "FAILED"),
    lock("words", "2000-01-01T00:00:00+00:00"),
]


@pytest.fixture
def table(aws):
    ddb = aws.client("dynamodb")
    name = make_table(ddb)
    return {"ddb": ddb, "name": name, "args": ["--table", name, "--yes"]}


def seed(table, items: list[dict]) -> list[dict]:
    put_items(table["ddb"], table["name"], items)
    return all_items(table["ddb"], table["name"])


def test_resets_words_and_their_gsi1pk_and_nothing_else(table, cli):
    before = seed(table, MIXED_WORDS + LINES + OTHERS)
    assert len(before) == len(MIXED_WORDS + LINES + OTHERS)

    result = cli("embeddings", *table["args"], "--json")

    assert result.exit_code == 0, result.stderr
    after = all_items(table["ddb"], table["name"])
    assert after == expected_after(before, "RECEIPT_WORD")  # every attribute of every item; no item created
    doc = result.json()
    assert (doc["command"], doc["status"], doc["dry_run"]) == ("embeddings", "ok", False)
    (step,) = doc["steps"]
    assert step["step"] == "embeddings"
    assert (step["planned"], step["changed"], step["unchanged"], step["skipped"], step["failed"]) == (
        MIXED_PLANNED,
        MIXED_PLANNED,
        MIXED_UNCHANGED,
        MIXED_NOISE,
        0,
    )
    assert step["errors"] == []


def test_noise_words_are_skipped_and_counted_unless_include_noise(table, cli):
    before = seed(table, MIXED_WORDS + LINES)
    noise = {key_of(w) for w in MIXED_WORDS if w["embedding_status"] == "NOISE"}

    plain = cli("embeddings", *table["args"], "--json")
    assert plain.exit_code == 0, plain.stderr
    after = {key_of(i): i for i in all_items(table["ddb"], table["name"])}
    assert all(
        after[k]["embedding_status"] == "NOISE" and after[k]["GSI1PK"] == "EMBEDDING_STATUS#NOISE" for k in noise
    )
    step = plain.json()["steps"][0]
    assert step["skipped"] == MIXED_NOISE
    assert sum(step["skip_reasons"].values()) == MIXED_NOISE
    assert "include-noise" in " ".join(step["skip_reasons"])

    with_noise = cli("embeddings", *table["args"], "--include-noise", "--json")
    assert with_noise.exit_code == 0, with_noise.stderr
    assert all_items(table["ddb"], table["name"]) == expected_after(before, "RECEIPT_WORD", include_noise=True)
    step = with_noise.json()["steps"][0]
    assert (step["planned"], step["changed"], step["skipped"]) == (MIXED_NOISE, MIXED_NOISE, 0)
    assert all(i["is_noise"] for i in all_items(table["ddb"], table["name"]) if key_of(i) in noise)


def test_collection_lines_resets_lines_and_leaves_words(table, cli):
    before = seed(table, MIXED_WORDS + LINES + OTHERS)

    result = cli("embeddings", "--collection", "lines", *table["args"], "--json")

    assert result.exit_code == 0, result.stderr
    assert all_items(table["ddb"], table["name"]) == expected_after(before, "RECEIPT_LINE")
    step = result.json()["steps"][0]
    # lines: SUCCESS, SUCCESS, FAILED change; NONE is done; NOISE is skipped
    assert (step["planned"], step["changed"], step["unchanged"], step["skipped"]) == (3, 3, 1, 1)


def test_status_none_with_a_stale_gsi1pk_is_fixed(table, cli):
    stale_rows = [
        stale(word(IMAGES[0], 1, 1, 1, "NONE"), "EMBEDDING_STATUS#SUCCESS"),
        stale(word(IMAGES[0], 1, 1, 2, "NONE"), "EMBEDDING_STATUS#FAILED"),
    ]
    good = word(IMAGES[0], 1, 1, 3, "NONE")
    before = seed(table, [*stale_rows, good])

    result = cli("embeddings", *table["args"], "--json")

    assert result.exit_code == 0, result.stderr
    after = all_items(table["ddb"], table["name"])
    assert {i["GSI1PK"] for i in after} == {"EMBEDDING_STATUS#NONE"}
    assert after == expected_after(before, "RECEIPT_WORD")
    step = result.json()["steps"][0]
    assert (step["planned"], step["changed"], step["unchanged"]) == (2, 2, 1)


def test_second_run_changes_nothing_and_counts_every_word_as_done(table, cli, proxy):
    seed(table, MIXED_WORDS + LINES + OTHERS)
    assert cli("embeddings", *table["args"]).exit_code == 0
    between = all_items(table["ddb"], table["name"])

    again = cli("embeddings", *table["args"], "--endpoint-url", proxy.url, "--json")
    human = cli("embeddings", *table["args"])

    assert again.exit_code == 0 and human.exit_code == 0
    assert all_items(table["ddb"], table["name"]) == between
    assert UPDATE not in proxy.seen and any(op.endswith(".Query") for op in proxy.seen)
    step = again.json()["steps"][0]
    words = len(MIXED_WORDS)
    assert (step["planned"], step["changed"], step["unchanged"], step["skipped"]) == (
        0,
        0,
        words - MIXED_NOISE,
        MIXED_NOISE,
    )
    assert "nothing to change" in human.stdout


@pytest.mark.parametrize("type_index", ["GSITYPE", ""], ids=["type-index", "scan-fallback"])
def test_more_than_one_page_of_words_all_reset(table, cli, proxy, tmp_path, type_index):
    # moto (like DynamoDB) ends a page at 1 MB of items read: 130 words of ~8.5 KB make at least two pages.
    if not type_index:
        (tmp_path / "chroma-cleanup.toml").write_text('[layout]\ntype_index = ""\n')
    padding = "x" * 8500
    many = [w for i, image in enumerate(IMAGES) for w in words_with({"SUCCESS": 60, "FAILED": 5}, image, i + 1)]
    many = [{**w, "geometry": padding} for w in many]
    before = seed(table, many + LINES + OTHERS)
    reads = []

    def record(req, forward):
        body = json.loads(req.body)
        reads.append((req.target.rsplit(".", 1)[-1], body.get("IndexName"), "ExclusiveStartKey" in body))
        return forward(req)

    proxy.rules.append(Rule(lambda r: is_target("Query")(r) or is_target("Scan")(r), record))

    result = cli("embeddings", *table["args"], "--endpoint-url", proxy.url, "--json")

    assert result.exit_code == 0, result.stderr
    assert all_items(table["ddb"], table["name"]) == expected_after(before, "RECEIPT_WORD")
    step = result.json()["steps"][0]
    assert (step["planned"], step["changed"]) == (130, 130)
    continued = [r for r in reads if r[2]]
    assert len(continued) >= 2  # the plan and the apply each followed LastEvaluatedKey
    if type_index:
        assert {(op, index) for op, index, _ in reads} == {("Query", "GSITYPE")}
    else:
        assert {(op, index) for op, index, _ in reads} == {("Scan", None)}


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException"], ids=["throttling", "provisioned"]
)
def test_throttled_updates_and_query_are_retried_until_every_word_is_reset(table, cli, proxy, code):
    items = words_with({"SUCCESS": 24, "FAILED": 6})
    before = seed(table, items + LINES)
    unlucky = key_of(items[-1])
    throttle = json_error(400, code, "Rate exceeded")
    proxy.rules.append(Rule(lambda r: update_key(r) == unlucky, throttle, times=2))  # answered on the 3rd try
    proxy.rules.append(Rule(is_target("UpdateItem"), throttle, times=4))  # the first four of the others
    proxy.rules.append(Rule(is_target("Query"), throttle, times=1))
    throttles = 2 + 4

    result = cli("embeddings", *table["args"], "--endpoint-url", proxy.url, "--json")

    assert result.exit_code == 0, result.stderr
    assert all_items(table["ddb"], table["name"]) == expected_after(before, "RECEIPT_WORD")
    step = result.json()["steps"][0]
    assert (step["changed"], step["failed"]) == (30, 0)
    assert proxy.seen.count(UPDATE) == 30 + throttles  # each throttled call was sent again
    assert all(rule.hits == rule.times for rule in proxy.rules)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (json_error(400, "AccessDeniedException", "not allowed on this key"), "AccessDeniedException"),
        (json_error(500, "InternalServerError", "injected"), "InternalServerError"),  # retried, then given up
        (drop_connection, "ConnectionClosedError"),  # retried, then given up
    ],
    ids=["denied", "server-error", "dropped"],
)
def test_a_persistent_failure_is_counted_with_its_id_and_code_and_the_rest_reset(table, cli, proxy, answer, code):
    items = words_with({"SUCCESS": 12, "PENDING": 3})
    before = seed(table, items + LINES)
    broken = key_of(items[4])
    proxy.rules.append(Rule(lambda r: update_key(r) == broken, answer))

    result = cli("embeddings", *table["args"], "--endpoint-url", proxy.url, "--json")

    assert result.exit_code == 1
    doc = result.json()
    assert doc["status"] == "partial"
    step = doc["steps"][0]
    assert (step["planned"], step["changed"], step["failed"]) == (15, 14, 1)
    assert [(e["id"], e["code"]) for e in step["errors"]] == [(broken, code)]
    expected = [
        i if key_of(i) == broken else e for i, e in zip(before, expected_after(before, "RECEIPT_WORD"), strict=True)
    ]
    assert all_items(table["ddb"], table["name"]) == expected
    assert proxy.rules[0].hits >= (1 if code == "AccessDeniedException" else 2)


def test_a_connection_lost_while_listing_is_one_line_and_exit_2(table, cli, proxy):
    before = seed(table, words_with({"SUCCESS": 3}))
    proxy.rules.append(Rule(is_target("Query"), drop_connection))

    result = cli("embeddings", *table["args"], "--endpoint-url", proxy.url, "--json")

    assert result.exit_code == 2
    assert all_items(table["ddb"], table["name"]) == before
    assert result.json()["status"] == "error"
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the message and its hint


def test_an_item_deleted_after_the_plan_is_not_created_again(table, aws, cli, proxy):
    items = words_with({"SUCCESS": 8})
    before = seed(table, items)
    gone = items[3]

    def delete_then_forward(req, forward):
        aws.client("dynamodb").delete_item(
            TableName=table["name"], Key={"PK": {"S": gone["PK"]}, "SK": {"S": gone["SK"]}}
        )
        return forward(req)

    proxy.rules.append(Rule(lambda r: update_key(r) == key_of(gone), delete_then_forward, times=1))

    result = cli("embeddings", *table["args"], "--endpoint-url", proxy.url, "--json")

    assert result.exit_code == 0, result.stderr
    expected = [i for i in expected_after(before, "RECEIPT_WORD") if key_of(i) != key_of(gone)]
    assert all_items(table["ddb"], table["name"]) == expected
    step = result.json()["steps"][0]
    assert (step["changed"], step["skipped"], step["failed"]) == (7, 1, 0)


@pytest.mark.parametrize("workers", [1, 16])
def test_worker_count_bounds_concurrency_and_not_the_outcome(table, cli, proxy, workers):
    before = seed(table, words_with({"SUCCESS": 24, "FAILED": 6, "NOISE": 2, "NONE": 3}) + LINES + OTHERS)
    in_flight, peak, guard = [0], [0], threading.Lock()

    def measure(req, forward):
        with guard:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.005)  # hold each update briefly so overlapping ones are seen overlapping
        try:
            return forward(req)
        finally:
            with guard:
                in_flight[0] -= 1

    proxy.rules.append(Rule(is_target("UpdateItem"), measure))

    result = cli("embeddings", *table["args"], "--workers", str(workers), "--endpoint-url", proxy.url, "--json")

    assert result.exit_code == 0, result.stderr
    assert all_items(table["ddb"], table["name"]) == expected_after(before, "RECEIPT_WORD")
    assert result.json()["steps"][0]["changed"] == 30
    if workers == 1:
        assert peak[0] == 1
    else:
        assert 1 < peak[0] <= workers


def test_a_type_index_the_table_lacks_is_a_configuration_error(table, cli, tmp_path):
    before = seed(table, MIXED_WORDS)
    (tmp_path / "chroma-cleanup.toml").write_text('[layout]\ntype_index = "BY_TYPE"\n')

    result = cli("embeddings", *table["args"])

    assert result.exit_code == 2
    assert f"table {table['name']} has no index BY_TYPE" in result.stderr
    assert "Traceback" not in result.stderr
    assert all_items(table["ddb"], table["name"]) == before
