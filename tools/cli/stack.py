"""Running the whole system locally: broker, topics, the four services as processes, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.kafka import ensure_topics
from shared.settings import Settings
from tools.cli.broker import port_open, start_tansu

SERVICES = ("ingest", "extract", "classify", "store")


@dataclass
class Stack:
    """The processes of one local run; ``stop`` ends them in reverse order of start."""

    settings: Settings
    log_dir: Path
    broker: subprocess.Popen[bytes] | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    commands: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def port(self, service: str) -> int:
        return int(getattr(self.settings, f"{service}_port"))

    def url(self, service: str) -> str:
        return f"http://{self.settings.host}:{self.port(service)}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        s = self.settings
        env.update(
            {
                "INNSPILL_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
                "INNSPILL_TOPIC_PREFIX": s.topic_prefix,
                "INNSPILL_DATA_DIR": str(s.data_dir.resolve()),
                "INNSPILL_DATABASE_URL": s.resolved_database_url,
                "INNSPILL_MODEL_DIR": str(s.resolved_model_dir.resolve()),
                "INNSPILL_HOST": s.host,
                "PYTHONUNBUFFERED": "1",
            }
        )
        for svc in SERVICES:
            env[f"INNSPILL_{svc.upper()}_PORT"] = str(self.port(svc))
        return env

    def start_broker_if_needed(self, explicit_bootstrap: bool) -> None:
        host, _, port = self.settings.kafka_bootstrap.rpartition(":")
        if explicit_bootstrap:
            return
        if port_open(host, int(port)):
            raise SystemExit(
                f"port {port} (broker) is taken: stop what runs there, set INNSPILL_KAFKA_BOOTSTRAP=host:port to "
                "use it as the broker, or choose another free port with INNSPILL_KAFKA_BOOTSTRAP=127.0.0.1:NNNN"
            )
        self.broker = start_tansu(int(port), host=host, log_path=self.log_dir / "broker.log")

    def start_service(
        self,
        service: str,
        name: str | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> str:
        """Start ``services.<service>`` as process ``name`` (default: the service name). A replica gets its
        own name and HTTP port and joins the same consumer group; ``extra_env`` overrides settings."""
        name = name or service
        env = {**self.env(), **(extra_env or {})}
        if port is not None:
            env[f"INNSPILL_{service.upper()}_PORT"] = str(port)
        self.ports[name] = port or self.port(service)
        self.commands[name] = (service, env)
        self._spawn(name)
        return name

    def _spawn(self, name: str) -> None:
        service, env = self.commands[name]
        # The child gets its own copy of the log file descriptor; the parent's is closed at once.
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def restart(self, name: str) -> None:
        """Start a process that ended again, with the same command, settings and port."""
        self._spawn(name)

    def check_ports_free(self, services: tuple[str, ...]) -> None:
        """Refuse to start when a service port is taken, naming the port and the setting that moves it."""
        for svc in services:
            if port_open(self.settings.host, self.port(svc)):
                raise SystemExit(
                    f"port {self.port(svc)} ({svc}) is taken on {self.settings.host}: stop what runs there, or "
                    f"choose another port with INNSPILL_{svc.upper()}_PORT=NNNN make up"
                )

    def replica_url(self, name: str) -> str:
        return f"http://{self.settings.host}:{self.ports[name]}"

    def kill(self, name: str) -> None:
        """SIGKILL a process, as a crash would."""
        proc = self.procs[name]
        proc.kill()
        proc.wait()

    def wait_healthy(self, service: str, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        proc = self.procs[service]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with code {proc.returncode}; see {self.log_dir}/{service}.log"
                )
            try:
                if httpx.get(self.replica_url(service) + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{service} not healthy after {timeout_s:.0f}s; see {self.log_dir}/{service}.log")

    def dead(self) -> list[str]:
        return [name for name, p in self.procs.items() if p.poll() is not None]

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM every service (they finish in-flight work), then the broker; SIGKILL stragglers."""
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.broker and self.broker.poll() is None:
            self.broker.terminate()
            try:
                self.broker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.broker.kill()


@contextmanager
def running_stack(
    settings: Settings, log_dir: Path, explicit_bootstrap: bool, services: tuple[str, ...] = SERVICES
) -> Iterator[Stack]:
    """Start broker (unless given), topics and services; always stop them on the way out."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings, log_dir)
    try:
        stack.check_ports_free(services)
        stack.start_broker_if_needed(explicit_bootstrap)
        asyncio.run(ensure_topics(settings))
        for svc in services:
            stack.start_service(svc)
        for svc in services:
            stack.wait_healthy(svc)
        yield stack
    finally:
        stack.stop()


@dataclass
class Supervisor:
    """Restarts crashed services with backoff; gives up on one that keeps crashing."""

    stack: Stack
    max_restarts: int = 5
    window_s: float = 120.0
    crashes: dict[str, list[float]] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)

    def tick(self, now: float, report: Callable[[str], None]) -> str | None:
        """Look at every process once: schedule or perform restarts. Returns the name of a service that
        crashed too often (the caller stops everything), else ``None``."""
        for name in self.stack.dead():
            if name in self.due:
                if now >= self.due[name]:
                    del self.due[name]
                    self.stack.restart(name)
                    report(f"{name} restarted")
                continue
            recent = [t for t in self.crashes.get(name, []) if now - t < self.window_s] + [now]
            self.crashes[name] = recent
            code = self.stack.procs[name].returncode
            if len(recent) > self.max_restarts:
                return name
            delay = min(2.0 ** (len(recent) - 1), 30.0)
            self.due[name] = now + delay
            report(
                f"{name} exited with code {code}; restarting in {delay:.0f} s ({len(recent)} crash(es) lately)"
            )
        return None
