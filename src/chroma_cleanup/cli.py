"""The `chroma-cleanup` command line: parse options, call one operation, render its result."""

import sys
from collections.abc import Callable
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import botocore.exceptions as bx
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from chroma_cleanup import render
from chroma_cleanup.aws.clients import error_code, error_message
from chroma_cleanup.config import Config
from chroma_cleanup.context import Context
from chroma_cleanup.errors import EXIT_FAILED, EXIT_USAGE, CleanupError, ConfigError, NotConfirmed, Refused
from chroma_cleanup.operations import cleanup
from chroma_cleanup.operations.model import RunResult, Step
from chroma_cleanup.operations.runner import run
from chroma_cleanup.options import Common, with_options

app = typer.Typer(
    help="Reset a ChromaDB-on-AWS embedding pipeline for a test run, then verify the rebuilt snapshots.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)


class JsonAwareCommand(TyperCommand):
    """With --json, a usage error (bad option value, unknown option) is also one JSON document on stdout."""

    def make_context(self, info_name, args, parent=None, **extra):
        wants_json = "--json" in args
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:
            if wants_json and getattr(exc, "exit_code", None) == EXIT_USAGE and hasattr(exc, "format_message"):
                render.print_json(
                    {
                        "command": info_name,
                        "status": "error",
                        "exit_code": EXIT_USAGE,
                        "error": {"message": exc.format_message(), "hint": f"see chroma-cleanup {info_name} --help"},
                    }
                )
            raise


class Collection(StrEnum):
    words = "words"
    lines = "lines"


def fail(opts: Common | None, command: str, exc: CleanupError) -> None:
    """One readable line and a hint on stderr (and the JSON error document with --json)."""
    err.print(f"[red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err.print(f"[dim]hint:[/] {escape(exc.hint)}", highlight=False)
    if opts is not None and opts.json:
        render.print_json(
            {
                "command": command,
                "status": "error",
                "error": {"message": exc.message, "hint": exc.hint},
                "exit_code": exc.exit_code,
            }
        )
    raise typer.Exit(exc.exit_code)


@contextmanager
def reported(opts: Common, command: str):
    """Expected failures become one line on stderr and an exit code, never a traceback."""
    try:
        yield
    except CleanupError as exc:
        fail(opts, command, exc)
    except bx.ClientError as exc:
        fail(opts, command, Refused(f"AWS answered {error_code(exc)}: {error_message(exc)}", ""))
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def context(opts: Common, workers: int = 8) -> Context:
    return Context(Config.load(opts.inputs), workers=workers)


def confirmer(opts: Common, ctx: Context) -> Callable[[RunResult], None]:
    def confirm(planned: RunResult) -> None:
        if opts.yes:
            return
        word = ctx.env or (ctx.config.stack().value if ctx.config.stack() else None) or "yes"
        if not sys.stdin.isatty():
            raise NotConfirmed(
                "refusing to change anything: no terminal to confirm on",
                "review with --dry-run, then pass --yes to run without a prompt",
            )
        render.show_warnings(err, planned)
        render.show_run(err, planned)
        err.print(f"Type [bold]{escape(word)}[/] to apply this plan: ", end="")
        if sys.stdin.readline().strip() != word:
            raise Refused("not confirmed; nothing was changed", f"type {word} exactly, or pass --yes")

    return confirm


def execute(
    opts: Common,
    command: str,
    build: Callable[[Context], list[Step]],
    workers: int = 8,
    warnings: Callable[[Context], list[str]] = lambda ctx: [],
) -> None:
    """Resolve the environment, build the steps, run them once, render the result, exit with its code."""
    with reported(opts, command):
        ctx = context(opts, workers)
        ctx.refuse_prod(opts.allow_prod)
        steps = build(ctx)
        ctx.refuse_prod(opts.allow_prod)
        result = run(
            command,
            ctx.env,
            steps,
            dry_run=opts.dry_run,
            confirm=confirmer(opts, ctx),
            progress=render.RichProgress(err),
            warnings=warnings(ctx),
        )
    render.show_warnings(err, result)
    if opts.json:
        render.print_json(result.as_dict())
    else:
        render.show_run(out, result)
    if result.interrupted:
        err.print("interrupted: the changes counted above were made; run the command again to finish")
    raise typer.Exit(result.exit_code)


def _collections(collection: Collection | None, ctx: Context) -> tuple[str, ...]:
    return (collection.value,) if collection else ctx.layout.collections


@app.command(cls=JsonAwareCommand)
@with_options(destructive=True)
def snapshots(
    opts: Common,
    collection: Annotated[Collection | None, typer.Option(help="Only this collection (default: both).")] = None,
    purge_versions: Annotated[
        bool, typer.Option("--purge-versions", help="Remove every version and delete marker for good.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even while a compaction lock has not expired.")
    ] = False,
) -> None:
    """Delete the words and lines snapshots from S3, never the deltas.

    Example: chroma-cleanup snapshots --env dev --dry-run
    """
    execute(
        opts,
        "snapshots",
        lambda ctx: cleanup.snapshot_steps(
            ctx, _collections(collection, ctx), purge_versions=purge_versions, force=force
        ),
    )


@app.command(cls=JsonAwareCommand)
@with_options(destructive=True)
def embeddings(
    opts: Common,
    collection: Annotated[Collection, typer.Option(help="Reset words or lines.")] = Collection.words,
    include_noise: Annotated[
        bool, typer.Option("--include-noise", help="Also reset items whose status is NOISE.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Updates in flight at once.")] = 8,
) -> None:
    """Reset embedding_status to NONE (and its GSI1PK) so the words are embedded again.

    Example: chroma-cleanup embeddings --env dev --yes
    """
    execute(
        opts,
        "embeddings",
        lambda ctx: [cleanup.embeddings_step(ctx, collection.value, include_noise=include_noise)],
        workers,
    )


@app.command(cls=JsonAwareCommand)
@with_options(destructive=True)
def batches(
    opts: Common,
    batch_type: Annotated[list[str] | None, typer.Option(help="Batch type (repeatable).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Updates in flight at once.")] = 8,
) -> None:
    """Reset WORD_EMBEDDING batch summaries to PENDING so batch processing restarts.

    Example: chroma-cleanup batches --env dev --batch-type WORD_EMBEDDING
    """
    execute(
        opts, "batches", lambda ctx: [cleanup.batches_step(ctx, tuple(batch_type or ctx.layout.batch_types))], workers
    )


@app.command(cls=JsonAwareCommand)
@with_options(destructive=True)
def executions(
    opts: Common,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for stopped executions to leave RUNNING.")] = 60.0,
) -> None:
    """Stop the pipeline's RUNNING Step Functions executions.

    Example: chroma-cleanup executions --env dev --yes
    """
    execute(opts, "executions", lambda ctx: [cleanup.executions_step(ctx, wait_seconds=wait)])


@app.command("all", cls=JsonAwareCommand)
@with_options(destructive=True)
def cleanup_all(
    opts: Common,
    stop_executions: Annotated[bool, typer.Option("--stop-executions", help="Stop RUNNING executions first.")] = False,
    skip_s3: Annotated[bool, typer.Option("--skip-s3", help="Leave the S3 snapshots alone.")] = False,
    skip_dynamo: Annotated[bool, typer.Option("--skip-dynamo", help="Leave the DynamoDB statuses alone.")] = False,
    purge_versions: Annotated[
        bool, typer.Option("--purge-versions", help="Remove snapshot versions for good.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete snapshots even under an unexpired compaction lock.")
    ] = False,
    include_noise: Annotated[bool, typer.Option("--include-noise", help="Also reset NOISE words.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Updates in flight at once.")] = 8,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for stopped executions.")] = 60.0,
) -> None:
    """The whole cleanup in a safe order: executions, snapshots, word statuses, batch summaries.

    Example: chroma-cleanup all --env dev --stop-executions --dry-run
    """

    def build(ctx: Context) -> list[Step]:
        steps: list[Step] = []
        if stop_executions:
            steps.append(cleanup.executions_step(ctx, wait_seconds=wait))
        if not skip_s3:
            steps += cleanup.snapshot_steps(ctx, ctx.layout.collections, purge_versions=purge_versions, force=force)
        if not skip_dynamo:
            steps.append(cleanup.embeddings_step(ctx, "words", include_noise=include_noise))
            steps.append(cleanup.batches_step(ctx, ctx.layout.batch_types))
        return steps

    def warnings(ctx: Context) -> list[str]:
        if stop_executions or skip_s3:
            return []
        warning = cleanup.running_executions_warning(ctx)
        return [warning] if warning else []

    execute(opts, "all", build, workers, warnings)


@app.command("config", cls=JsonAwareCommand)
@with_options()
def show_config(opts: Common) -> None:
    """Print every resolved name and where it came from (secret outputs are never shown).

    Example: chroma-cleanup config --env dev
    """
    from chroma_cleanup.config_report import config_report

    with reported(opts, "config"):
        report = config_report(context(opts))
    if opts.json:
        render.print_json({"command": "config", **report})
    else:
        render.show_config(out, report)
    raise typer.Exit(EXIT_USAGE if report["missing"] else 0)


@app.command("verify", cls=JsonAwareCommand)
@with_options()
def verify(
    opts: Common,
    collection: Annotated[Collection | None, typer.Option(help="Only this collection (default: both).")] = None,
    limit: Annotated[int, typer.Option(min=0, help="How many of the newest receipts must be complete.")] = 10,
    keep: Annotated[Path | None, typer.Option(help="Download into this folder and keep the files.")] = None,
    local: Annotated[Path | None, typer.Option(help="Check a snapshot folder already on disk (no AWS).")] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds the ChromaDB probe may take.")] = 120.0,
) -> None:
    """Download the snapshots and prove they are healthy and hold the newest receipts (read-only).

    Example: chroma-cleanup verify --env dev --limit 10
    """
    from chroma_cleanup.verify.run import RemoteVerify, prepare_keep, verify_local

    with reported(opts, "verify"):
        if local is not None:
            if collection is None:
                raise ConfigError("--local needs --collection words or --collection lines", "name the collection")
            reports = [verify_local(local, collection.value, chroma_timeout=timeout)]
            env = None
        else:
            ctx = context(opts)
            names = _collections(collection, ctx)
            checker = RemoteVerify(
                ctx.bucket(),
                ctx.table(),
                ctx.layout,
                render.RichProgress(err),
                limit=limit,
                keep=keep,
                chroma_timeout=timeout,
            )
            if keep is not None:
                prepare_keep(keep, names)
            reports = [checker.collection(name) for name in names]
            env = ctx.env
    healthy = all(r.healthy for r in reports)
    if opts.json:
        render.print_json(
            {
                "command": "verify",
                "env": env,
                "status": "ok" if healthy else "failed",
                "collections": [r.as_dict() for r in reports],
            }
        )
    else:
        render.show_verify(out, reports)
    raise typer.Exit(0 if healthy else EXIT_FAILED)


@app.command("sandbox", cls=JsonAwareCommand)
def sandbox(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 0,
    receipts: Annotated[int, typer.Option(min=1, max=5000, help="How many receipts to seed.")] = 200,
    corrupt: Annotated[list[Collection] | None, typer.Option(help="Seed this collection's snapshot damaged.")] = None,
) -> None:
    """Start a local AWS on 127.0.0.1 seeded with an environment named `sandbox`; Ctrl-C stops it.

    Example: chroma-cleanup sandbox --corrupt lines   (then, elsewhere: chroma-cleanup all --env sandbox --dry-run)
    """
    from chroma_cleanup.sandbox.server import run_sandbox

    def ready(endpoint: str, seeded) -> None:
        out.print(
            f"[green]sandbox ready[/] at {endpoint}: bucket {seeded.bucket}, table {seeded.table}", highlight=False
        )
        out.print(
            f"{len(seeded.data.receipts)} receipts, {len(seeded.data.words)} words, {len(seeded.data.lines)} lines; "
            "try: chroma-cleanup all --env sandbox --dry-run   (Ctrl-C here stops the sandbox)",
            highlight=False,
            soft_wrap=True,
        )
        sys.stdout.flush()

    try:
        run_sandbox(port, receipts, tuple(c.value for c in corrupt or ()), ready)
    except CleanupError as exc:
        fail(None, "sandbox", exc)


def main() -> None:
    app()
