"""The ``innspill`` command: run the system locally, manage topics and models, replay documents."""

from __future__ import annotations

import asyncio
import os
import signal
import time

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
    from shared.runner import SERVICES, running_stack

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    explicit = "INNSPILL_KAFKA_BOOTSTRAP" in os.environ
    log_dir = settings.data_dir / "logs"
    started = time.monotonic()
    stopping = {"flag": False}

    def _stop(*_: object) -> None:
        stopping["flag"] = True

    console.print("starting broker, topics and services ...")
    signal.signal(signal.SIGTERM, _stop)
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
            while not stopping["flag"]:
                dead = stack.dead()
                if dead:
                    console.print(f"[red]stopped unexpectedly: {', '.join(dead)}; see {log_dir}[/red]")
                    raise typer.Exit(1)
                time.sleep(0.5)
            console.print("stopping ...")
    except KeyboardInterrupt:
        console.print("stopping ...")
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
def replay(
    document_ids: list[str] = typer.Argument(None, help="Document ids; none means every stored document."),
) -> None:
    """Re-process documents from their stored blobs: extract, classify (current model) and store again."""
    from shared.replay import replay as run_replay

    settings = get_settings()
    try:
        sent = asyncio.run(run_replay(settings, document_ids or [], nonce=str(time.time_ns())))
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"replaying {len(sent)} document(s)")


if __name__ == "__main__":
    app()
