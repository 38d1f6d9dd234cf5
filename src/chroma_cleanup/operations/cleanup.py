"""Build the steps of each cleanup command from the resolved environment."""

from __future__ import annotations

from functools import partial

from chroma_cleanup.context import Context
from chroma_cleanup.errors import CleanupError
from chroma_cleanup.operations.executions import StopExecutions
from chroma_cleanup.operations.locks import active_locks
from chroma_cleanup.operations.model import Step
from chroma_cleanup.operations.reset import ResetItems, ResetRule
from chroma_cleanup.operations.snapshots import DeleteSnapshots


def snapshot_steps(ctx: Context, collections: tuple[str, ...], *, purge_versions: bool, force: bool) -> list[Step]:
    bucket = ctx.bucket()
    steps: list[Step] = []
    for collection in collections:
        locks: tuple[str, ...] = ()
        recheck = None
        try:
            table = ctx.table()
            locks = tuple(active_locks(table, ctx.layout, collection))
            recheck = partial(active_locks, table, ctx.layout, collection)
        except CleanupError:
            if not force:
                raise  # without the table we cannot tell whether a compaction is writing
        steps.append(
            DeleteSnapshots(
                bucket,
                collection,
                ctx.layout.snapshot_prefix_for(collection),
                purge_versions=purge_versions,
                active_locks=locks,
                force=force,
                recheck_locks=recheck,
            )
        )
    return steps


def embeddings_step(ctx: Context, collection: str, *, include_noise: bool) -> Step:
    layout = ctx.layout
    item_type = layout.item_type_for(collection)
    reset = layout.embedding_reset_status
    rule = ResetRule(
        step="embeddings",
        item_type=item_type,
        status_attribute="embedding_status",
        status=reset,
        index_key=layout.status_index_key,
        index_value=layout.embedding_status_key.format(status=reset),
        skip_statuses={} if include_noise else {layout.noise_status: "noise (pass --include-noise)"},
        collection=collection,
    )
    table = ctx.table()
    return ResetItems(table, rule, f"{table.name}: {item_type} embedding_status -> {reset}", ctx.workers)


def batches_step(ctx: Context, batch_types: tuple[str, ...]) -> Step:
    layout = ctx.layout
    reset = layout.batch_reset_status
    rule = ResetRule(
        step="batches",
        item_type=layout.batch_summary_type,
        status_attribute="status",
        status=reset,
        index_key=layout.status_index_key,
        index_value=layout.batch_status_key.format(status=reset),
        filter_attribute="batch_type",
        filter_values=batch_types,
    )
    table = ctx.table()
    target = f"{table.name}: {'/'.join(batch_types)} batch summaries status -> {reset}"
    return ResetItems(table, rule, target, ctx.workers)


def executions_step(ctx: Context, *, wait_seconds: float) -> StopExecutions:
    return StopExecutions(ctx.step_functions(), ctx.state_machines().value, wait_seconds=wait_seconds)


def running_executions_warning(ctx: Context) -> str | None:
    """For `all` without --stop-executions: say so when the pipeline is busy, since it may write snapshots."""
    try:
        step = executions_step(ctx, wait_seconds=0)
        running = step.plan().planned
    except CleanupError as exc:
        return f"could not check for running executions ({exc.message}); pass --stop-executions to stop them"
    if running:
        return (
            f"{running} execution(s) of the pipeline are RUNNING and may write new snapshots after the cleanup; "
            "pass --stop-executions to stop them first"
        )
    return None
