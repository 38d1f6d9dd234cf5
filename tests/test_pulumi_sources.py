"""Where Pulumi stack outputs come from: an outputs file, a self-managed backend's state file (file:// or s3://),
or the `pulumi` SDK's automation API driving a `pulumi` executable on PATH - in that order.

The Pulumi CLI is not installable here, so the SDK path drives a small fake `pulumi` that logs every argv it gets.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from builders import cleaned, make_bucket, make_table, snapshot_bucket

TABLE = "ReceiptsTable-dc5be22"
SECRET_PLAIN = "s3cr3t-plaintext-7731"
SECRET_CIPHER = "v1:CIPHERTEXT-9f8e7d"
SIG = "4dabf18193072939515e22adb298388d"

FAKE_PULUMI = """#!{python}
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "argv.log"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
with open(os.path.join(here, "behaviour.json")) as fh:
    behaviour = json.load(fh)
args = sys.argv[1:]
if args == ["version"]:
    if behaviour.get("version_fails"):
        print("pulumi: cannot start", file=sys.stderr)
        sys.exit(1)
    print(behaviour["version"])
    sys.exit(0)
if args[:1] == ["--non-interactive"]:
    args = args[1:]
stack = args[args.index("--stack") + 1] if "--stack" in args else None
known = behaviour["stacks"]
if args[:2] == ["stack", "select"]:
    if stack not in known:
        print(f"error: no stack named '{{stack}}' found", file=sys.stderr)
        sys.exit(255)
    sys.exit(0)
if args[:3] == ["stack", "output", "--json"]:
    if "--show-secrets" in args and behaviour.get("passphrase") and "PULUMI_CONFIG_PASSPHRASE" not in os.environ:
        print("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE "
              "environment variables", file=sys.stderr)
        sys.exit(255)
    outputs = known[stack]["plain" if "--show-secrets" in args else "masked"]
    print(outputs if isinstance(outputs, str) else json.dumps(outputs, indent=4))
    sys.exit(0)
print("fake pulumi: unsupported " + " ".join(args), file=sys.stderr)
sys.exit(2)
"""


class FakePulumi:
    """A `pulumi` executable first on PATH; it answers from `behaviour` and logs each argv."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        bin_dir.mkdir(parents=True, exist_ok=True)
        exe = bin_dir / "pulumi"
        exe.write_text(FAKE_PULUMI.format(python=sys.executable), encoding="utf-8")
        exe.chmod(0o755)
        self._file = bin_dir / "behaviour.json"
        self.behave(version="v3.200.0", stacks={})

    def behave(self, **changes) -> None:
        behaviour = json.loads(self._file.read_text()) if self._file.exists() else {}
        self._file.write_text(json.dumps({**behaviour, **changes}), encoding="utf-8")

    def add_stack(self, name: str, plain: dict, masked: dict | None = None) -> None:
        """`masked` replaces values as `pulumi stack output --json` shows them without --show-secrets."""
        stacks = json.loads(self._file.read_text())["stacks"]
        stacks[name] = {"plain": plain, "masked": {**plain, **(masked or {})}}
        self.behave(stacks=stacks)

    def calls(self) -> list[list[str]]:
        log = self.bin_dir / "argv.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def fake_pulumi(tmp_path, monkeypatch) -> FakePulumi:
    fake = FakePulumi(tmp_path / "fake-bin")
    monkeypatch.setenv("PATH", f"{fake.bin_dir}{os.pathsep}{os.environ['PATH']}")
    # The SDK makes a work dir under tempfile.gettempdir(); keep it inside this test's tmp_path.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return fake


@pytest.fixture
def no_pulumi_on_path(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def checkpoint(outputs: dict) -> bytes:
    """A state file as a self-managed backend writes it; a decoy resource with outputs comes first."""
    return json.dumps(
        {
            "version": 3,
            "checkpoint": {
                "stack": "organization/portfolio/dev",
                "latest": {
                    "manifest": {"time": "2025-11-15T17:18:18Z", "version": "v3.200.0"},
                    "resources": [
                        {
                            "urn": "urn:pulumi:dev::portfolio::aws:s3/bucket:Bucket::decoy",
                            "type": "aws:s3/bucket:Bucket",
                            "outputs": {"embedding_chromadb_bucket_name": "decoy-bucket", "bucket": "decoy-bucket"},
                        },
                        {
                            "urn": "urn:pulumi:dev::portfolio::pulumi:pulumi:Stack::portfolio-dev",
                            "type": "pulumi:pulumi:Stack",
                            "outputs": outputs,
                        },
                    ],
                },
            },
        }
    ).encode()


def stack_outputs(bucket: str, *, with_secret: bool = True) -> dict:
    outputs = {"embedding_chromadb_bucket_name": bucket, "dynamodb_table_name": TABLE}
    if with_secret:
        outputs["openai_api_key"] = {SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": SECRET_CIPHER}
    return outputs


def no_secret_printed(result) -> None:
    printed = result.stdout + result.stderr
    assert SECRET_PLAIN not in printed and SECRET_CIPHER not in printed


# --- (a) an outputs file --------------------------------------------------------------------------------------------


def test_outputs_file(aws, cli, tmp_path):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "bucket-from-file")
    make_table(aws.client("dynamodb"), TABLE)
    path = write_json(tmp_path / "dev-outputs.json", stack_outputs(bucket))

    doc = cli("config", "--json", "--outputs-file", str(path)).json()
    assert doc["outputs"]["origin"] == f"outputs file {path}"
    assert doc["outputs"]["values"]["openai_api_key"] == "[secret]"

    result = cli("snapshots", "--collection", "words", "--yes", "--outputs-file", str(path))
    assert result.exit_code == 0, result.stderr
    assert cleaned(s3, bucket)
    no_secret_printed(result)


# --- (b) a file:// backend ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "gz"),
    [
        (".pulumi/stacks/portfolio/dev.json", False),
        (".pulumi/stacks/portfolio/dev.json.gz", True),
        (".pulumi/stacks/dev.json", False),
    ],
    ids=["project", "project-gz", "legacy"],
)
def test_file_backend_state_file(rel, gz, aws, cli, tmp_path, monkeypatch, no_pulumi_on_path):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "bucket-from-state")
    make_table(aws.client("dynamodb"), TABLE)
    raw = checkpoint(stack_outputs(bucket))
    state = tmp_path / "backend" / rel
    state.parent.mkdir(parents=True)
    state.write_bytes(gzip.compress(raw) if gz else raw)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'backend'}")

    for as_json in (True, False):
        shown = cli("config", "--env", "dev", *(["--json"] if as_json else []))
        assert shown.exit_code == 0, shown.stderr
        no_secret_printed(shown)
    doc = cli("config", "--env", "dev", "--json").json()
    assert doc["values"]["bucket"] == {"value": bucket, "source": f"state file {state}: embedding_chromadb_bucket_name"}
    assert doc["values"]["stack"]["value"] == "tnorlund/portfolio/dev"
    assert doc["outputs"]["values"]["openai_api_key"] == "[secret]"

    result = cli("snapshots", "--collection", "words", "--env", "dev", "--yes")
    assert result.exit_code == 0, result.stderr
    assert cleaned(s3, bucket) and not cleaned(s3, snapshot_bucket(s3, "decoy-bucket"))


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file://~", "home"),
        ("file://~/pulumi-state", "home/pulumi-state"),
        ("file://relative-state", "relative-state"),
        ("file://./dot/state", "dot/state"),
        ("file://{tmp}/abs-state?no_tmp_dir=true", "abs-state"),
    ],
    ids=["home", "under-home", "relative", "dot-relative", "absolute-with-query"],
)
def test_file_backend_url_forms(url, root, cli, tmp_path, monkeypatch, no_pulumi_on_path):
    """As `pulumi login file://...` reads them: "~" is home, and a relative path starts at the working directory."""
    state = tmp_path / root / ".pulumi/stacks/portfolio/dev.json"
    write_json(state, json.loads(checkpoint(stack_outputs("the-bucket"))))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PULUMI_BACKEND_URL", url.format(tmp=tmp_path))

    bucket = cli("config", "--env", "dev", "--json").json()["values"]["bucket"]

    assert bucket["value"] == "the-bucket"
    assert bucket["source"].startswith(f"state file {state.resolve()}")


def test_project_layout_wins_over_legacy(cli, tmp_path, monkeypatch, no_pulumi_on_path):
    backend = tmp_path / "backend"
    write_json(backend / ".pulumi/stacks/portfolio/dev.json", json.loads(checkpoint(stack_outputs("project-b"))))
    write_json(backend / ".pulumi/stacks/dev.json", json.loads(checkpoint(stack_outputs("legacy-b"))))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{backend}")

    assert cli("config", "--env", "dev", "--json").json()["values"]["bucket"]["value"] == "project-b"


def test_stack_template_picks_the_state_file(cli, tmp_path, monkeypatch, no_pulumi_on_path):
    backend = tmp_path / "backend"
    write_json(backend / ".pulumi/stacks/vectors/dev.json", json.loads(checkpoint(stack_outputs("acme-b"))))
    write_json(backend / ".pulumi/stacks/portfolio/dev.json", json.loads(checkpoint(stack_outputs("default-b"))))
    (tmp_path / "chroma-cleanup.toml").write_text('stack_template = "acme/vectors/{env}"\n')
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{backend}")

    values = cli("config", "--env", "dev", "--json").json()["values"]
    assert values["stack"]["value"] == "acme/vectors/dev"
    assert values["bucket"]["value"] == "acme-b"


# --- (c) an s3:// backend -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_suffix", "key", "gz"),
    [
        ("/pulumi/state", "pulumi/state/.pulumi/stacks/portfolio/dev.json", False),
        ("", ".pulumi/stacks/portfolio/dev.json.gz", True),
        ("/team?region=us-east-1", "team/.pulumi/stacks/dev.json", False),
    ],
    ids=["prefix", "root-gz", "legacy-with-query"],
)
def test_s3_backend_state_file(url_suffix, key, gz, aws, cli, monkeypatch, no_pulumi_on_path):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "bucket-from-s3-state")
    make_table(aws.client("dynamodb"), TABLE)
    make_bucket(s3, "pulumi-state", versioned=False)
    raw = checkpoint(stack_outputs(bucket))
    s3.put_object(Bucket="pulumi-state", Key=key, Body=gzip.compress(raw) if gz else raw)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"s3://pulumi-state{url_suffix}")

    doc = cli("config", "--env", "dev", "--json").json()
    expected = f"state file s3://pulumi-state/{key}: embedding_chromadb_bucket_name"
    assert doc["values"]["bucket"] == {"value": bucket, "source": expected}
    assert doc["values"]["table"]["value"] == TABLE

    result = cli("snapshots", "--collection", "words", "--env", "dev", "--yes")
    assert result.exit_code == 0, result.stderr
    assert cleaned(s3, bucket)
    no_secret_printed(result)


@pytest.mark.parametrize("scheme", ["file", "s3"])
def test_backend_without_the_stack_is_a_readable_error(scheme, aws, cli, tmp_path, monkeypatch, no_pulumi_on_path):
    if scheme == "s3":
        make_bucket(aws.client("s3"), "pulumi-state", versioned=False)
        url = "s3://pulumi-state/prefix"
    else:
        url = f"file://{tmp_path / 'empty-backend'}"
    monkeypatch.setenv("PULUMI_BACKEND_URL", url)

    result = cli("snapshots", "--env", "dev", "--yes", "--json")

    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.json()["status"] == "error"
    assert "no state for stack tnorlund/portfolio/dev" in result.stderr
    assert ".pulumi/stacks/portfolio/dev.json" in result.stderr


def test_damaged_state_file_is_a_readable_error(cli, tmp_path, monkeypatch, no_pulumi_on_path):
    state = tmp_path / "backend/.pulumi/stacks/portfolio/dev.json"
    state.parent.mkdir(parents=True)
    state.write_text('{"version": 3, "checkpoint": ')
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'backend'}")

    result = cli("snapshots", "--env", "dev", "--yes")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: state file {state} is not a Pulumi state file")


# --- (d) the Pulumi SDK's automation API, driving `pulumi` on PATH --------------------------------------------------


def sdk_calls(stack: str) -> list[list[str]]:
    """What pulumi 3.272's select_stack(...) runs, then the one masked listing of outputs.

    Never `--show-secrets`: the SDK's own Stack.outputs() adds it, and it fails without the stack's passphrase.
    """
    return [
        ["version"],
        ["--non-interactive", "stack", "select", "--stack", stack],
        ["--non-interactive", "stack", "output", "--json", "--stack", stack],
    ]


def test_sdk_reads_outputs_through_the_cli(fake_pulumi, aws, cli, tmp_path):
    s3 = aws.client("s3")
    bucket = snapshot_bucket(s3, "bucket-from-cli")
    make_table(aws.client("dynamodb"), TABLE)
    plain = {
        "embedding_chromadb_bucket_name": bucket,
        "dynamodb_table_name": TABLE,
        "openai_api_key": SECRET_PLAIN,
        "db": {"host": "db.local", "password": SECRET_PLAIN},
    }
    masked = {"openai_api_key": "[secret]", "db": {"host": "db.local", "password": "[secret]"}}
    fake_pulumi.add_stack("tnorlund/portfolio/dev", plain, masked)
    fake_pulumi.behave(passphrase=True)  # --show-secrets would fail: no PULUMI_CONFIG_PASSPHRASE here

    for args in (["--json"], []):
        shown = cli("config", "--env", "dev", *args)
        assert shown.exit_code == 0, shown.stderr
        no_secret_printed(shown)
    doc = cli("config", "--env", "dev", "--json").json()
    assert doc["values"]["bucket"] == {
        "value": bucket,
        "source": "pulumi CLI (stack tnorlund/portfolio/dev): embedding_chromadb_bucket_name",
    }
    assert doc["outputs"]["values"]["openai_api_key"] == "[secret]"
    assert doc["outputs"]["values"]["db"]["password"] == "[secret]"
    assert fake_pulumi.calls() == sdk_calls("tnorlund/portfolio/dev") * 3

    result = cli("snapshots", "--collection", "words", "--env", "dev", "--yes")
    assert result.exit_code == 0, result.stderr
    assert cleaned(s3, bucket)
    no_secret_printed(result)
    assert not list((tmp_path / "scratch").iterdir()), "the SDK's work dirs are left behind"


def test_sdk_uses_the_stack_template(fake_pulumi, cli, tmp_path):
    (tmp_path / "chroma-cleanup.toml").write_text('stack_template = "acme/vectors/{env}"\n')
    fake_pulumi.add_stack("acme/vectors/qa", {"chromadb_bucket_name": "qa-b", "dynamodb_table_name": "qa-t"})

    values = cli("config", "--env", "qa", "--json").json()["values"]

    assert values["bucket"]["value"] == "qa-b"
    stacks = {call[call.index("--stack") + 1] for call in fake_pulumi.calls() if "--stack" in call}
    assert stacks == {"acme/vectors/qa"}


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ({}, "Pulumi has no stack tnorlund/portfolio/dev"),
        ({"version": "v2.0.0"}, "pulumi"),
        ({"version": "not a version"}, "pulumi"),
        ({"version_fails": True}, "pulumi"),
        ({"bad_output": True}, "pulumi"),
    ],
    ids=["unknown-stack", "too-old", "unparseable-version", "version-fails", "output-not-json"],
)
def test_sdk_failures_are_one_readable_line(behaviour, message, fake_pulumi, cli):
    stacks = {}
    if behaviour.pop("bad_output", False):
        stacks = {"tnorlund/portfolio/dev": {"plain": "Welcome to Pulumi!", "masked": "Welcome to Pulumi!"}}
    fake_pulumi.behave(**{"version": "v3.200.0", "stacks": stacks, **behaviour})

    result = cli("snapshots", "--env", "dev", "--yes", "--json")

    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert message in lines[0]
    assert result.json()["status"] == "error"


# --- the order: outputs file, then backend, then CLI ----------------------------------------------------------------


@pytest.mark.parametrize("sources", [("file", "backend", "cli"), ("backend", "cli"), ("cli",)])
def test_outputs_file_wins_over_backend_wins_over_cli(sources, fake_pulumi, cli, tmp_path, monkeypatch):
    fake_pulumi.add_stack("tnorlund/portfolio/dev", stack_outputs("cli-b", with_secret=False))
    args = ["config", "--env", "dev", "--json"]
    if "backend" in sources:
        write_json(
            tmp_path / "backend/.pulumi/stacks/portfolio/dev.json", json.loads(checkpoint(stack_outputs("be-b")))
        )
        monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'backend'}")
    if "file" in sources:
        args += ["--outputs-file", str(write_json(tmp_path / "o.json", stack_outputs("file-b")))]

    values = cli(*args).json()["values"]

    expected = {"file": "file-b", "backend": "be-b", "cli": "cli-b"}[sources[0]]
    assert values["bucket"]["value"] == expected
    assert (fake_pulumi.calls() != []) == (sources[0] == "cli")  # the CLI is not even asked when a file answers
