"""Names of the real system (see the README's "Layout"); every one can be changed in the config file."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from chroma_cleanup.errors import ConfigError


@dataclass(frozen=True)
class OutputKeys:
    """Pulumi stack output names, each tried in order."""

    table: tuple[str, ...] = ("dynamodb_table_name",)
    bucket: tuple[str, ...] = ("embedding_chromadb_bucket_name", "chromadb_bucket_name")
    state_machines: tuple[str, ...] = (
        "embedding_word_ingest_sf_arn",
        "embedding_line_ingest_sf_arn",
        "embedding_word_submit_sf_arn",
        "embedding_line_submit_sf_arn",
    )


@dataclass(frozen=True)
class Layout:
    """Where things live in the bucket and the table."""

    collections: tuple[str, ...] = ("words", "lines")
    snapshot_prefix: str = "{collection}/snapshot/"
    pointer_key: str = "{collection}/snapshot/latest-pointer.txt"
    timestamped_prefix: str = "{collection}/snapshot/timestamped/"
    legacy_latest_prefix: str = "{collection}/snapshot/latest/"
    # Item TYPE per collection: words hold RECEIPT_WORD items, lines RECEIPT_LINE.
    item_types: dict[str, str] = field(default_factory=lambda: {"words": "RECEIPT_WORD", "lines": "RECEIPT_LINE"})
    receipt_type: str = "RECEIPT"
    batch_summary_type: str = "BATCH_SUMMARY"
    lock_type: str = "COMPACTION_LOCK"
    # An empty index name means "no such index": the table is scanned instead.
    type_index: str = "GSITYPE"
    type_attribute: str = "TYPE"
    status_index_key: str = "GSI1PK"
    embedding_status_key: str = "EMBEDDING_STATUS#{status}"
    batch_status_key: str = "STATUS#{status}"
    embedding_reset_status: str = "NONE"
    noise_status: str = "NOISE"
    success_status: str = "SUCCESS"
    batch_reset_status: str = "PENDING"
    batch_types: tuple[str, ...] = ("WORD_EMBEDDING",)
    stack_template: str = "tnorlund/portfolio/{env}"
    # ListStateMachines fallback when the outputs name no state machine.
    state_machine_patterns: tuple[str, ...] = (
        "word-ingest-sf-{env}-",
        "line-ingest-sf-{env}-",
        "word-submit-sf-{env}-",
        "line-submit-sf-{env}-",
    )
    output_keys: OutputKeys = field(default_factory=OutputKeys)

    def snapshot_prefix_for(self, collection: str) -> str:
        return self.snapshot_prefix.format(collection=collection)

    def item_type_for(self, collection: str) -> str:
        try:
            return self.item_types[collection]
        except KeyError:
            raise ConfigError(
                f"no item type is configured for collection {collection!r}",
                "add it under [layout.item_types] in chroma-cleanup.toml",
            ) from None


def _coerce(name: str, default: Any, value: Any) -> Any:
    """Check a config-file value against the default's type."""
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config value {name} must be a list of strings", "fix chroma-cleanup.toml")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"config value {name} must be a table of strings", "fix chroma-cleanup.toml")
        return {**default, **value}
    if not isinstance(value, str):
        raise ConfigError(f"config value {name} must be a string", "fix chroma-cleanup.toml")
    return value


# The one placeholder each template may hold: any other makes str.format raise deep inside a command.
_TEMPLATE_FIELDS = {
    "snapshot_prefix": "collection",
    "pointer_key": "collection",
    "timestamped_prefix": "collection",
    "legacy_latest_prefix": "collection",
    "embedding_status_key": "status",
    "batch_status_key": "status",
    "stack_template": "env",
    "state_machine_patterns": "env",
}


def check_template(name: str, template: str, placeholder: str) -> None:
    try:
        template.format(**{placeholder: "x"})
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{name} {template!r} is not a valid template ({type(exc).__name__}: {exc})",
            f"the only placeholder it may use is {{{placeholder}}}; write {{{{ and }}}} for literal braces",
        ) from None


def layout_from_config(section: dict[str, Any], outputs_section: dict[str, Any]) -> Layout:
    """The default layout with the config file's [layout] and [outputs] tables laid over it."""
    base = Layout()
    known = {f.name for f in fields(Layout)} - {"output_keys"}
    unknown = set(section) - known
    if unknown:
        raise ConfigError(
            f"unknown [layout] setting {sorted(unknown)[0]!r} in config file",
            f"known settings: {', '.join(sorted(known))}",
        )
    changes = {k: _coerce(f"layout.{k}", getattr(base, k), v) for k, v in section.items()}
    keys = base.output_keys
    unknown = set(outputs_section) - {f.name for f in fields(OutputKeys)}
    if unknown:
        raise ConfigError(
            f"unknown [outputs] setting {sorted(unknown)[0]!r} in config file",
            "known settings: bucket, table, state_machines",
        )
    keys = replace(keys, **{k: _coerce(f"outputs.{k}", getattr(keys, k), v) for k, v in outputs_section.items()})
    for name in ("snapshot_prefix", "timestamped_prefix", "legacy_latest_prefix"):
        # Without the slash, "words/snapshot" would also match "words/snapshots/" and "words/snapshot-old/".
        if not changes.get(name, "/").endswith("/"):
            raise ConfigError(f"layout.{name} must end with '/'", 'e.g. "{collection}/snapshot/"')
    if "{env}" not in changes.get("stack_template", "{env}"):
        raise ConfigError("layout.stack_template must contain {env}", 'e.g. "myorg/myproject/{env}"')
    for name, placeholder in _TEMPLATE_FIELDS.items():
        value = changes.get(name, ())
        for template in value if isinstance(value, tuple) else (value,):
            check_template(f"layout.{name}", template, placeholder)
    if not changes.get("collections", base.collections):
        raise ConfigError("layout.collections is empty", 'e.g. collections = ["words", "lines"]')
    _check_snapshot_prefix(
        changes.get("snapshot_prefix", base.snapshot_prefix), changes.get("collections", base.collections)
    )
    return replace(base, output_keys=keys, **changes)


def _check_snapshot_prefix(template: str, collections: tuple[str, ...]) -> None:
    """`snapshots` deletes everything under this prefix, so it must never cover deltas or root placeholders."""
    if "{collection}" not in template:
        raise ConfigError(
            f"layout.snapshot_prefix {template!r} does not name the collection",
            'e.g. "{collection}/snapshot/": without it one prefix would cover every collection and the root',
        )
    for collection in collections:
        prefix = template.format(collection=collection)
        for delta in (f"{collection}/delta/", "delta/", "snapshot/.placeholder"):
            if delta.startswith(prefix):
                raise ConfigError(
                    f"layout.snapshot_prefix {template!r} would also delete {delta}",
                    'use a folder of its own, e.g. "{collection}/snapshot/"',
                )
