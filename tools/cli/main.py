"""The ``innspill`` command: run the system locally, manage topics and models, replay documents."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shared.settings import get_settings

app = typer.Typer(help="innspill: consultation letters in, labelled segments out.", no_args_is_help=True)
console = Console()


@app.command()
def up() -> None:
    """Start the broker (Tansu on loopback unless INNSPILL_KAFKA_BOOTSTRAP is set), create the topics,
    start the four services and the web UI, and stop everything cleanly on Ctrl-C."""
    from tools.cli.stack import SERVICES, Supervisor, running_stack

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    explicit = "INNSPILL_KAFKA_BOOTSTRAP" in os.environ
    log_dir = settings.data_dir / "logs"
    started = time.monotonic()

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    console.print("starting broker, topics and services ...")
    # Explicit handlers: Ctrl-C, kill and a closed terminal all stop cleanly, also when the process was
    # started in the background (which can inherit SIGINT as ignored).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        with running_stack(settings, log_dir, explicit) as stack:
            table = Table(title=f"innspill is up ({time.monotonic() - started:.1f}s)")
            table.add_column("service")
            table.add_column("URL")
            for svc in SERVICES:
                table.add_row(svc, stack.url(svc) + ("/" if svc == "store" else "/docs"))
            table.add_row("broker", settings.kafka_bootstrap + ("" if explicit else " (Tansu, in memory)"))
            console.print(table)
            console.print(f"Upload:  curl -F file=@brev.pdf {stack.url('ingest')}/documents")
            console.print(f"Drop folder: {settings.drop_dir.resolve()}   Logs: {log_dir.resolve()}")
            console.print("Ctrl-C stops everything.")
            supervisor = Supervisor(stack)
            while (
                failing := supervisor.tick(
                    time.monotonic(), lambda msg: console.print(f"[yellow]{msg}[/yellow]")
                )
            ) is None:
                time.sleep(0.5)
            console.print(
                f"[red]{failing} keeps crashing; stopping everything. See {log_dir}/{failing}.log[/red]"
            )
            raise typer.Exit(1)
    except KeyboardInterrupt:
        pass  # running_stack has stopped everything on the way out
    console.print("stopped.")


@app.command()
def topics() -> None:
    """Create the contract's topics on the configured broker (existing ones are left alone)."""
    from shared.kafka import ensure_topics
    from shared.topics import topics_for

    settings = get_settings()
    asyncio.run(ensure_topics(settings))
    for name, n in topics_for(settings).partitions(settings).items():
        console.print(f"{name}  partitions={n}")


@app.command()
def upload(
    paths: list[Path] = typer.Argument(..., help="PDF or .docx files (folders are searched)."),
    wait: bool = typer.Option(True, help="Follow each document until it is classified or failed."),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the whole batch."),
) -> None:
    """Upload letters to ingest and show their progress to ``classified``."""
    import httpx
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tools.cli.upload import auth_headers, upload_file, wait_final

    settings = get_settings()
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()]
    base = f"http://{settings.host}"
    ingest_url, store_url = f"{base}:{settings.ingest_port}", f"{base}:{settings.store_port}"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        httpx.Client(headers=auth_headers(settings.token)) as client,
        Progress(*columns, console=console) as bar,
    ):
        started = time.monotonic()
        sent = bar.add_task("uploaded", total=len(files))
        outcomes = []
        for f in files:
            outcomes.append(upload_file(client, ingest_url, f))
            bar.advance(sent)
        accepted = [o for o in outcomes if o.document_id]
        if wait and accepted:
            done = bar.add_task("processed", total=len(accepted))
            wait_final(client, store_url, accepted, started, timeout, lambda _: bar.advance(done))
    table = Table(title="upload results")
    for col in ("file", "http", "document", "status", "seconds", "error"):
        table.add_column(col)
    for o in outcomes:
        status = o.status or ("duplicate" if o.duplicate else ("accepted" if o.document_id else "rejected"))
        table.add_row(
            o.path.name,
            str(o.http_status),
            (o.document_id or "")[:12],
            status,
            f"{o.seconds:.1f}" if o.seconds else "",
            o.error or "",
        )
    console.print(table)
    if any(o.error for o in outcomes):
        raise typer.Exit(1)


@app.command()
def replay(
    document_ids: list[str] = typer.Argument(None, help="Document ids; none means every stored document."),
) -> None:
    """Re-process documents from their stored blobs: extract, classify (current model) and store again."""
    from tools.cli.replay import replay as run_replay

    settings = get_settings()
    try:
        sent = asyncio.run(run_replay(settings, document_ids or [], nonce=str(time.time_ns())))
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"replaying {len(sent)} document(s)")


@app.command("ensure-model")
def ensure_model(
    force: bool = typer.Option(False, help="Rebuild even when an up-to-date model is in place."),
) -> None:
    """Make sure the default classifier is at INNSPILL_MODEL_DIR (default ./var/models/default); built
    offline from data/labelled by the classify recipe when missing, or rebuilt when the data or the recipe
    changed since it was built."""
    from tools.training.ensure import ensure_model as ensure

    path, version, built = ensure(get_settings(), force=force)
    console.print(f"{'built' if built else 'present'}: {version} at {path}")


if __name__ == "__main__":
    app()
