"""One precedence for every name: flag > environment variable > config file > Pulumi outputs > defaults.

Each layer is checked twice: in what `config --json` reports (value and source), and in which resource a real
command then acts on.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import boto3
import pytest
from builders import (
    DELTA,
    cleaned,
    current_keys,
    execution_statuses,
    make_bucket,
    make_state_machine,
    make_table,
    put_items,
    put_keys,
    snapshot_bucket,
)
from builders import start as start_executions
from builders import word as word_item

TABLE = "ReceiptsTable-test"
SECRETS = ("CIPHER-abc123", "PLAIN-hunter2", "NESTED-xyz789")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def regional_dynamodb(aws, region: str):
    """The `aws` fixture's clients are in us-east-1; DynamoDB tables are per region."""
    return boto3.client(
        "dynamodb",
        endpoint_url=aws.endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def cwd_config(tmp_path: Path) -> Path:
    return tmp_path.resolve() / "chroma-cleanup.toml"


def user_config(tmp_path: Path) -> Path:
    return tmp_path / "xdg-config" / "chroma-cleanup" / "config.toml"


def state_file(root: Path, rel: str, outputs: dict) -> Path:
    """A self-managed backend's checkpoint whose stack resource carries `outputs`."""
    doc = {
        "version": 3,
        "checkpoint": {
            "latest": {
                "resources": [
                    {"type": "pulumi:providers:aws", "urn": "urn:pulumi:dev::p::pulumi:providers:aws::default"},
                    {
                        "type": "pulumi:pulumi:Stack",
                        "urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
                        "outputs": outputs,
                    },
                ]
            }
        },
    }
    return write_json(root / rel, doc)


def entry(result, name: str):
    assert result.exit_code in (0, 2), result.stderr
    return result.json()["values"][name]


# --- bucket and table: every layer, and the one above it wins -------------------------------------------------

LAYERS = ["flag", "envvar", "cwd_file", "user_file", "outputs"]


def set_up_layers(top: str, resource: str, tmp_path: Path, monkeypatch, names: dict[str, str]) -> tuple[list, dict]:
    """Set up `top` and every layer below it, each naming its own resource; returns (args, expected sources)."""
    flag, envvar, output_key = {
        "bucket": ("--bucket", "CHROMA_CLEANUP_BUCKET", "embedding_chromadb_bucket_name"),
        "table": ("--table", "CHROMA_CLEANUP_TABLE", "dynamodb_table_name"),
    }[resource]
    present = LAYERS[LAYERS.index(top) :]
    outputs = {"embedding_chromadb_bucket_name": "unused-bucket", "dynamodb_table_name": TABLE}
    if "outputs" in present:
        outputs[output_key] = names["outputs"]
    outputs_path = write_json(tmp_path / "outputs" / "dev.json", outputs)
    args = ["--outputs-file", str(outputs_path)]
    if "flag" in present:
        args += [flag, names["flag"]]
    if "envvar" in present:
        monkeypatch.setenv(envvar, names["envvar"])
    if "cwd_file" in present:
        write_text(cwd_config(tmp_path), f'{resource} = "{names["cwd_file"]}"\n')
    if "user_file" in present:
        write_text(user_config(tmp_path), f'{resource} = "{names["user_file"]}"\n')
    sources = {
        "flag": f"flag {flag}",
        "envvar": f"environment variable {envvar}",
        "cwd_file": f"config file {cwd_config(tmp_path)}",
        "user_file": f"config file {user_config(tmp_path)}",
        "outputs": f"outputs file {outputs_path}: {output_key}",
    }
    return args, sources


@pytest.mark.parametrize("top", LAYERS)
def test_bucket_from_the_highest_layer_is_the_one_cleaned(top, aws, cli, tmp_path, monkeypatch):
    s3 = aws.client("s3")
    names = {layer: snapshot_bucket(s3, f"bucket-{layer.replace('_', '-')}") for layer in LAYERS}
    make_table(aws.client("dynamodb"), TABLE)
    args, sources = set_up_layers(top, "bucket", tmp_path, monkeypatch, names)

    shown = entry(cli("config", "--json", *args), "bucket")
    assert shown == {"value": names[top], "source": sources[top]}

    result = cli("snapshots", "--collection", "words", "--yes", "--json", *args)
    assert result.exit_code == 0, result.stderr
    assert {layer for layer in LAYERS if cleaned(s3, names[layer])} == {top}


@pytest.mark.parametrize("top", LAYERS)
def test_table_from_the_highest_layer_is_the_one_reset(top, aws, cli, tmp_path, monkeypatch):
    ddb = aws.client("dynamodb")
    names = {layer: make_table(ddb, f"table-{layer.replace('_', '-')}") for layer in LAYERS}
    make_table(ddb, TABLE)
    for name in [*names.values(), TABLE]:
        put_items(ddb, name, [word_item("img-1", 1, 1, 1, "SUCCESS")])
    args, sources = set_up_layers(top, "table", tmp_path, monkeypatch, names)

    shown = entry(cli("config", "--json", *args), "table")
    assert shown == {"value": names[top], "source": sources[top]}

    result = cli("embeddings", "--yes", "--json", *args)
    assert result.exit_code == 0, result.stderr
    statuses = {
        name: ddb.get_item(
            TableName=name, Key={"PK": {"S": "IMAGE#img-1"}, "SK": {"S": "RECEIPT#00001#LINE#00001#WORD#00001"}}
        )["Item"]["embedding_status"]["S"]
        for name in {*names.values(), TABLE}
    }
    assert {n for n, s in statuses.items() if s == "NONE"} == {names[top]}


@pytest.mark.parametrize("selected_by", ["flag", "envvar", "file"])
def test_envs_section_overrides_the_top_level_for_its_env(selected_by, aws, cli, tmp_path, monkeypatch):
    s3 = aws.client("s3")
    top_level, dev, staging = (snapshot_bucket(s3, n) for n in ("bucket-top", "bucket-dev", "bucket-staging"))
    make_table(aws.client("dynamodb"), TABLE)
    env_line = 'env = "dev"\n' if selected_by == "file" else ""
    write_text(
        cwd_config(tmp_path),
        f'{env_line}bucket = "{top_level}"\ntable = "{TABLE}"\n'
        f'[envs.dev]\nbucket = "{dev}"\n[envs.staging]\nbucket = "{staging}"\n',
    )
    args = ["--env", "dev"] if selected_by == "flag" else []
    if selected_by == "envvar":
        monkeypatch.setenv("CHROMA_CLEANUP_ENV", "dev")

    report = cli("config", "--json", *args).json()["values"]
    assert report["bucket"] == {"value": dev, "source": f"config file {cwd_config(tmp_path)}"}
    assert report["env"]["value"] == "dev"

    assert cli("snapshots", "--collection", "words", "--yes", *args).exit_code == 0
    assert [cleaned(s3, b) for b in (top_level, dev, staging)] == [False, True, False]


def test_top_level_applies_when_the_env_has_no_section(aws, cli, tmp_path):
    write_text(cwd_config(tmp_path), 'bucket = "bucket-top"\n[envs.dev]\nbucket = "bucket-dev"\n')
    shown = entry(cli("config", "--json", "--env", "qa"), "bucket")
    assert shown["value"] == "bucket-top"


# --- Pulumi outputs: value shapes and the bucket fallback ---------------------------------------------------------


@pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "value-object"])
@pytest.mark.parametrize(
    "bucket_key", ["embedding_chromadb_bucket_name", "chromadb_bucket_name"], ids=["embedding-key", "fallback-key"]
)
def test_outputs_values_plain_or_wrapped_and_bucket_fallback(wrapped, bucket_key, aws, cli, tmp_path):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "chromadb-dev-shared-buckets-vectors-c239843")
    make_table(aws.client("dynamodb"), "ReceiptsTable-dc5be22")

    def shape(value):
        return {"value": value} if wrapped else value

    outputs = {bucket_key: shape(bucket), "dynamodb_table_name": shape("ReceiptsTable-dc5be22")}
    if bucket_key == "embedding_chromadb_bucket_name":
        outputs["chromadb_bucket_name"] = shape("legacy-bucket-not-used")
    path = write_json(tmp_path / "outputs.json", outputs)

    values = cli("config", "--json", "--outputs-file", str(path)).json()["values"]
    assert values["bucket"] == {"value": bucket, "source": f"outputs file {path}: {bucket_key}"}
    assert values["table"] == {"value": "ReceiptsTable-dc5be22", "source": f"outputs file {path}: dynamodb_table_name"}

    assert cli("snapshots", "--collection", "words", "--yes", "--outputs-file", str(path)).exit_code == 0
    assert cleaned(s3, bucket)


def test_empty_embedding_bucket_output_falls_back(cli, tmp_path):
    path = write_json(tmp_path / "o.json", {"embedding_chromadb_bucket_name": "", "chromadb_bucket_name": "old"})
    assert entry(cli("config", "--json", "--outputs-file", str(path)), "bucket")["value"] == "old"


# --- secrets --------------------------------------------------------------------------------------------------------


def secret_outputs() -> dict:
    return {
        "embedding_chromadb_bucket_name": "bucket-a",
        "dynamodb_table_name": TABLE,
        "db_password": {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            "ciphertext": SECRETS[0],
        },
        "api_token": {"secret": True, "value": SECRETS[1]},
        "nested": {"host": "db.local", "password": {"ciphertext": SECRETS[2]}},
    }


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_config_never_prints_a_secret_output(as_json, cli, tmp_path):
    path = write_json(tmp_path / "outputs.json", secret_outputs())

    result = cli("config", "--outputs-file", str(path), *(["--json"] if as_json else []))

    assert result.exit_code == 0, result.stderr
    printed = result.stdout + result.stderr
    assert [s for s in SECRETS if s in printed] == []
    assert "bucket-a" in printed
    if as_json:
        shown = result.json()["outputs"]["values"]
        assert shown["db_password"] == shown["api_token"] == "[secret]"


@pytest.mark.parametrize("command", [["config", "--json"], ["config"], ["snapshots", "--yes", "--json"]])
def test_a_secret_bucket_output_is_not_used_and_not_printed(command, aws, cli, tmp_path):
    outputs = {"embedding_chromadb_bucket_name": {"ciphertext": SECRETS[0]}, "dynamodb_table_name": TABLE}
    path = write_json(tmp_path / "outputs.json", outputs)

    result = cli(*command, "--outputs-file", str(path))

    assert result.exit_code == 2
    printed = result.stdout + result.stderr
    assert SECRETS[0] not in printed
    assert "secret output" in printed
    if command[0] == "snapshots":
        assert "--bucket" in result.stderr  # the hint says how to give it instead


# --- stack and env -------------------------------------------------------------------------------------------------


STACK_LAYERS = ["flag", "envvar", "file_stack", "file_template", "default"]


@pytest.mark.parametrize("top", STACK_LAYERS)
def test_stack_precedence_decides_which_state_file_is_read(top, aws, cli, tmp_path, monkeypatch):
    s3 = aws.client("s3")
    make_table(aws.client("dynamodb"), TABLE)
    stacks = {
        "flag": "org/proj/from-flag",
        "envvar": "org/proj/from-envvar",
        "file_stack": "org/proj/from-file",
        "file_template": "acme/vectors/dev",
        "default": "tnorlund/portfolio/dev",
    }
    backend = tmp_path / "state"
    buckets = {}
    for layer, stack in stacks.items():
        _, project, name = stack.split("/")
        buckets[layer] = snapshot_bucket(s3, f"bucket-{layer.replace('_', '-')}")
        outputs = {"embedding_chromadb_bucket_name": buckets[layer], "dynamodb_table_name": TABLE}
        state_file(backend, f".pulumi/stacks/{project}/{name}.json", outputs)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{backend}")
    present = STACK_LAYERS[STACK_LAYERS.index(top) :]
    args = ["--env", "dev"]
    if "flag" in present:
        args += ["--stack", stacks["flag"]]
    if "envvar" in present:
        monkeypatch.setenv("CHROMA_CLEANUP_STACK", stacks["envvar"])
    lines = []
    if "file_stack" in present:
        lines.append(f'stack = "{stacks["file_stack"]}"')
    if "file_template" in present:
        lines.append('stack_template = "acme/vectors/{env}"')
    if lines:
        write_text(cwd_config(tmp_path), "\n".join(lines) + "\n")
    sources = {
        "flag": "flag --stack",
        "envvar": "environment variable CHROMA_CLEANUP_STACK",
        "file_stack": f"config file {cwd_config(tmp_path)}",
        "file_template": "stack template + --env",
        "default": "stack template + --env",
    }

    values = cli("config", "--json", *args).json()["values"]
    assert values["stack"] == {"value": stacks[top], "source": sources[top]}
    assert values["bucket"]["value"] == buckets[top]

    assert cli("snapshots", "--collection", "words", "--yes", *args).exit_code == 0
    assert {layer for layer in STACK_LAYERS if cleaned(s3, buckets[layer])} == {top}


@pytest.mark.parametrize("top", ["flag", "envvar", "file"])
def test_env_precedence(top, cli, tmp_path, monkeypatch):
    present = ["flag", "envvar", "file"][["flag", "envvar", "file"].index(top) :]
    args = ["--env", "from-flag"] if "flag" in present else []
    if "envvar" in present:
        monkeypatch.setenv("CHROMA_CLEANUP_ENV", "from-envvar")
    if "file" in present:
        write_text(cwd_config(tmp_path), 'env = "from-file"\n')
    expected = {
        "flag": ("from-flag", "flag --env"),
        "envvar": ("from-envvar", "environment variable CHROMA_CLEANUP_ENV"),
        "file": ("from-file", f"config file {cwd_config(tmp_path)}"),
    }[top]

    values = cli("config", "--json", *args).json()["values"]

    assert values["env"] == {"value": expected[0], "source": expected[1]}
    assert values["stack"]["value"] == f"tnorlund/portfolio/{expected[0]}"


def test_without_any_source_only_the_defaults_are_reported(cli):
    result = cli("config", "--json")
    doc = result.json()
    assert result.exit_code == 2  # bucket and table are missing
    assert doc["values"]["env"] is None and doc["values"]["stack"] is None and doc["outputs"] is None
    assert set(doc["missing"]) == {"bucket", "table"}
    assert "word-ingest-sf-{env}-*" in doc["values"]["state_machines"]["source"]


# --- [layout] and [outputs] tables ---------------------------------------------------------------------------------


def test_config_file_output_key_names_and_snapshot_prefix_take_effect(aws, cli, tmp_path):
    s3 = aws.client("s3")
    bucket = make_bucket(s3, "team-b-vectors")
    put_keys(s3, bucket, ["words/snap/v1/chroma.sqlite3", "words/snapshot/v1/chroma.sqlite3", DELTA])
    make_table(aws.client("dynamodb"), "team-b-table")
    write_text(
        cwd_config(tmp_path),
        '[outputs]\nbucket = ["vectors_bucket"]\ntable = "receipts_table"\n'
        '[layout]\nsnapshot_prefix = "{collection}/snap/"\n',
    )
    path = write_json(
        tmp_path / "outputs.json",
        {
            "vectors_bucket": bucket,
            "receipts_table": "team-b-table",
            "embedding_chromadb_bucket_name": "default-key-bucket",
            "dynamodb_table_name": "default-key-table",
        },
    )

    values = cli("config", "--json", "--outputs-file", str(path)).json()["values"]
    assert values["bucket"] == {"value": bucket, "source": f"outputs file {path}: vectors_bucket"}
    assert values["table"] == {"value": "team-b-table", "source": f"outputs file {path}: receipts_table"}

    result = cli("snapshots", "--collection", "words", "--yes", "--json", "--outputs-file", str(path))
    assert result.exit_code == 0, result.stderr
    assert current_keys(s3, bucket) == {"words/snapshot/v1/chroma.sqlite3", DELTA}


def test_config_file_state_machine_patterns_take_effect(aws, cli, tmp_path):
    sfn = aws.client("stepfunctions")
    ours = make_state_machine(sfn, "team-b-ingest-dev-1")
    default_named = make_state_machine(sfn, "word-ingest-sf-dev-abc")
    arns = start_executions(sfn, ours, ["run-1"]) + start_executions(sfn, default_named, ["run-2"])
    write_text(cwd_config(tmp_path), '[layout]\nstate_machine_patterns = ["team-b-ingest-{env}-"]\n')

    result = cli("executions", "--env", "dev", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    statuses = execution_statuses(sfn, [ours, default_named])
    assert [statuses[a] for a in arns] == ["ABORTED", "RUNNING"]


# --- every environment variable, and boto3's own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envvar", "value", "name", "expected"),
    [
        ("CHROMA_CLEANUP_ENV", "dev", "env", "dev"),
        ("CHROMA_CLEANUP_STACK", "acme/vectors/qa", "stack", "acme/vectors/qa"),
        ("CHROMA_CLEANUP_BUCKET", "b-1", "bucket", "b-1"),
        ("CHROMA_CLEANUP_TABLE", "t-1", "table", "t-1"),
        ("CHROMA_CLEANUP_STATE_MACHINES", "arn:aws:states:1 arn:aws:states:2", "state_machines", None),
        ("CHROMA_CLEANUP_ENDPOINT_URL", "http://127.0.0.1:9", "endpoint_url", "http://127.0.0.1:9"),
        ("CHROMA_CLEANUP_REGION", "eu-west-3", "region", "eu-west-3"),
        ("AWS_PROFILE", "someone", "profile", "someone"),
    ],
)
def test_every_environment_variable_is_reported_with_its_source(envvar, value, name, expected, cli, monkeypatch):
    monkeypatch.setenv(envvar, value)
    shown = entry(cli("config", "--json"), name)
    if name == "state_machines":
        expected = ["arn:aws:states:1", "arn:aws:states:2"]
    assert shown == {"value": expected, "source": f"environment variable {envvar}"}


def test_outputs_file_environment_variable(aws, cli, tmp_path, monkeypatch):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "bucket-from-outputs")
    make_table(aws.client("dynamodb"), TABLE)
    path = write_json(tmp_path / "o.json", {"chromadb_bucket_name": bucket, "dynamodb_table_name": TABLE})
    monkeypatch.setenv("CHROMA_CLEANUP_OUTPUTS_FILE", str(path))

    doc = cli("config", "--json").json()
    assert doc["outputs"]["origin"] == f"outputs file {path}"
    assert doc["values"]["bucket"]["source"] == f"outputs file {path}: chromadb_bucket_name"

    assert cli("snapshots", "--collection", "words", "--yes").exit_code == 0
    assert cleaned(s3, bucket)


@pytest.mark.parametrize("separator", [" ", ","], ids=["spaces", "commas"])
def test_state_machines_environment_variable_names_the_machines_stopped(separator, aws, cli, monkeypatch):
    sfn = aws.client("stepfunctions")
    machines = [make_state_machine(sfn, f"word-ingest-sf-dev-{n}") for n in range(3)]
    runs = [start_executions(sfn, m, [f"manual-run-{n}-word"])[0] for n, m in enumerate(machines)]
    monkeypatch.setenv("CHROMA_CLEANUP_STATE_MACHINES", separator.join(machines[:2]))

    result = cli("executions", "--env", "dev", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    statuses = execution_statuses(sfn, machines)
    assert [statuses[r] for r in runs] == ["ABORTED", "ABORTED", "RUNNING"]


def test_region_from_environment_variable_flag_and_file(aws, cli, tmp_path, monkeypatch):
    ddb = regional_dynamodb(aws, "us-west-2")
    make_table(ddb, "west-table")
    put_items(ddb, "west-table", [word_item("img", 1, 1, 1, "SUCCESS")])
    args = ["embeddings", "--table", "west-table", "--dry-run", "--json"]

    assert cli(*args).exit_code == 2  # us-east-1 (AWS_DEFAULT_REGION) has no such table
    monkeypatch.setenv("CHROMA_CLEANUP_REGION", "us-west-2")
    assert cli(*args).exit_code == 0
    monkeypatch.setenv("CHROMA_CLEANUP_REGION", "eu-west-1")
    flagged = cli(*args, "--region", "us-west-2")
    assert flagged.exit_code == 0 and flagged.json()["steps"][0]["planned"] == 1
    monkeypatch.delenv("CHROMA_CLEANUP_REGION")
    write_text(cwd_config(tmp_path), 'region = "us-west-2"\n')
    assert cli(*args).exit_code == 0


def test_profile_from_the_aws_config_is_used(aws, cli, tmp_path, monkeypatch):
    ddb = regional_dynamodb(aws, "ap-south-1")
    make_table(ddb, "south-table")
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would beat the profile's region
    write_text(tmp_path / "aws-config", "[default]\nregion = us-east-1\n[profile south]\nregion = ap-south-1\n")
    write_text(tmp_path / "aws-credentials", "[south]\naws_access_key_id = a\naws_secret_access_key = b\n")
    args = ["embeddings", "--table", "south-table", "--dry-run"]

    default = cli(*args)
    assert default.exit_code == 2 and "south-table does not exist" in default.stderr
    assert cli(*args, "--profile", "south").exit_code == 0
    monkeypatch.setenv("AWS_PROFILE", "south")
    assert cli(*args).exit_code == 0


def test_endpoint_from_environment_variable_flag_file_and_boto3(aws, cli, tmp_path, monkeypatch):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "endpoint-bucket")
    dead = f"http://127.0.0.1:{closed_port()}"
    args = ["snapshots", "--collection", "words", "--bucket", bucket, "--force", "--dry-run", "--json"]

    # boto3's own AWS_ENDPOINT_URL (set by the `aws` fixture): nothing of ours names an endpoint.
    assert entry(cli("config", "--json", "--bucket", bucket), "endpoint_url") is None
    assert cli(*args).json()["steps"][0]["planned"] == 1

    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("CHROMA_CLEANUP_ENDPOINT_URL", aws.endpoint)
    assert cli(*args).exit_code == 0  # ours wins over boto3's

    monkeypatch.setenv("CHROMA_CLEANUP_ENDPOINT_URL", dead)
    assert cli(*args, "--endpoint-url", aws.endpoint).exit_code == 0  # the flag wins over the variable

    monkeypatch.delenv("CHROMA_CLEANUP_ENDPOINT_URL")
    write_text(cwd_config(tmp_path), f'endpoint_url = "{aws.endpoint}"\n')
    assert cli(*args).exit_code == 0  # the config file wins over boto3's variable
    shown = entry(cli("config", "--json", "--bucket", bucket), "endpoint_url")
    assert shown == {"value": aws.endpoint, "source": f"config file {cwd_config(tmp_path)}"}
