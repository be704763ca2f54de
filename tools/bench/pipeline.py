"""Pipeline benchmark: N distinct letters through the running system vs. the same work in one process.

    python -m tools.bench.pipeline --letters 200            # starts its own stack (as `make up` does)
    python -m tools.bench.pipeline --letters 200 --use-running [--ingest-url ... --store-url ...]
    python -m tools.bench.pipeline --letters 500 --burst    # all uploads at once: backpressure check
    python -m tools.bench.pipeline --letters 80 --no-baseline --extract-workers 1 --classify-replicas 2
                                                            # one row of the scaling table

Prints, in one run:
  * the in-process baseline: the same extraction + classification, one process pinned to one core;
  * pipeline pages/s (first upload -> last document final) and the ratio to the baseline;
  * upload -> classified latency p50/p95 under load, and at idle (single letters, one at a time);
  * peak RSS per service (main process, and with its child processes), peak open file handles;
  * the outcome of every upload (HTTP status) and every document (classified / failed / not final).

The letters are generated here (text written for this tool, rendered with the repository's reportlab
renderer, ``tools/extract/render.py``), each with its own reference number, so every one is a new document.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.settings import Settings, get_settings

# --- letters -------------------------------------------------------------------------------------------------

_SENDERS = [
    "Nordvik kommune",
    "Innlandet fylkeskommune",
    "Foreningen for pårørende",
    "Sykepleierforbundet avd. Vest",
    "Havbygd kommune",
    "Pasientforeningen Midt",
    "Legeforeningen, allmennleger",
    "Kystbyen kommune",
]
_HEADINGS = [
    "Bemanning og rekruttering",
    "Digital samhandling",
    "Forebygging og folkehelse",
    "Finansiering av tjenestene",
    "Pasientens behov",
    "Utdanning og kompetanse",
    "Akuttberedskap i distriktene",
    "Psykisk helse og rus",
]
_SENTENCES = [
    "Vi ser at det blir stadig vanskeligere å rekruttere fagfolk til turnusstillinger i helgene.",
    "Kommunen bruker mye tid på å innhente opplysninger som burde vært tilgjengelige elektronisk.",
    "Flere brukere forteller at de må gjenta historien sin hver gang de møter en ny behandler.",
    "Vi anbefaler at staten tar et større ansvar for å finansiere felles journalløsninger.",
    "Erfaringene fra prosjektet viser at tverrfaglige team reduserer antall reinnleggelser.",
    "Det bør etableres flere desentraliserte studieplasser slik at folk kan utdanne seg der de bor.",
    "Ventetiden for vurdering i spesialisthelsetjenesten er for lang for barn og unge.",
    "Lavterskeltilbud i kommunen må styrkes før problemene vokser seg store.",
    "Vi opplever at ansvarsdelingen mellom forvaltningsnivåene er uklar når pasienten skrives ut.",
    "Ordningen med digitalt tilsyn har gitt tryggere netter for både brukere og pårørende.",
    "Tilskuddsordningene er kortsiktige og gjør det vanskelig å planlegge tjenestene over tid.",
    "Vi foreslår at kommunene får en lovfestet rett til veiledning fra helseforetakene.",
    "Mange eldre ønsker å bo hjemme lenger, og det krever fleksible tjenester gjennom hele døgnet.",
    "Transporttiden til nærmeste sykehus er over to timer for store deler av befolkningen vår.",
    "Det trengs bedre verktøy for å dele legemiddellister mellom fastlege, sykehus og hjemmetjeneste.",
    "Pårørende gjør en stor innsats og bør få avlastning og opplæring når de trenger det.",
    "Vi vil peke på at frivillige organisasjoner kan bidra mer dersom de får forutsigbare rammer.",
    "Ansatte i helsetjenesten må få tid til faglig utvikling i arbeidstiden.",
    "En felles plan for beredskap ved ekstremvær vil gjøre tjenestene mer robuste.",
    "Det er behov for mer forskning på hvilke tiltak som faktisk virker i små kommuner.",
]


def letter_lines(n: int, paragraphs: int = 36) -> tuple[list[str], str]:
    """The text of letter ``n`` (about four A4 pages) and its letterhead; deterministic per ``n``."""
    rng = random.Random(n)
    sender = rng.choice(_SENDERS)
    lines = [
        f"{sender}, {rng.randint(1, 28)}. oktober 2026",
        f"Vår referanse: 2026/{10_000 + n}",
        "",
        f"Innspill til Nasjonal helse- og samhandlingsplan fra {sender}",
        "",
        "Vi viser til høringsbrevet og takker for anledningen til å gi innspill.",
        "",
    ]
    headings = rng.sample(_HEADINGS, k=min(len(_HEADINGS), 1 + paragraphs // 4))
    for p in range(paragraphs):
        if p % 4 == 0 and headings:
            lines += [f"{p // 4 + 1}. {headings.pop()}", ""]
        lines += [" ".join(rng.sample(_SENTENCES, k=rng.randint(3, 5))), ""]
    lines += ["Med vennlig hilsen", f"Saksbehandler {n}, {sender}"]
    return lines, sender


def make_letters(count: int, out: Path, start: int = 0, paragraphs: int = 36) -> list[Path]:
    from tools.extract.render import render_with_reportlab

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        lines, head = letter_lines(n, paragraphs)
        paths.append(render_with_reportlab(lines, head, out / f"innspill-{n:05d}.pdf"))
    return paths


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


# --- in-process baseline -------------------------------------------------------------------------------------


@dataclass
class Baseline:
    letters: int
    pages: int
    segments: int
    seconds: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


def run_baseline(pdfs: list[Path], settings: Settings) -> Baseline:
    """Extraction + classification of every letter in this process, pinned to one core, one thread."""
    from services.classify.loader import load_classifier
    from services.classify.schema import Item
    from services.extract.engine import extract_document
    from services.extract.model import Limits

    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        limits = Limits(
            timeout_s=settings.extract_timeout_s,
            max_pages=settings.extract_max_pages,
            max_memory_mb=settings.extract_max_memory_mb,
            ocr_enabled=settings.ocr_enabled,
            ocr_languages=settings.ocr_languages,
        )
        model = load_classifier(settings.resolved_model_dir, threads=1)
        warm = extract_document(pdfs[0], limits)
        model.predict([Item.of(s.text, s.heading_path) for s in warm.segments])
        pages = segments = 0
        t0 = time.perf_counter()
        for pdf in pdfs:
            result = extract_document(pdf, limits)
            items = [Item.of(s.text, s.heading_path) for s in result.segments]
            for i in range(0, len(items), settings.classify_batch_size):
                model.predict(items[i : i + settings.classify_batch_size])
            pages += result.page_count
            segments += len(items)
        return Baseline(len(pdfs), pages, segments, time.perf_counter() - t0)
    finally:
        os.sched_setaffinity(0, before)


# --- resource sampling ---------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass
class Peak:
    main_kb: int = 0
    tree_kb: int = 0
    fds: int = 0


@dataclass
class Sampler:
    """Samples RSS (process, and process + descendants) and open file handles of each service."""

    pids: dict[str, int]
    interval_s: float = 0.25
    peaks: dict[str, Peak] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _tick(self) -> None:
        for name, pid in self.pids.items():
            peak = self.peaks.setdefault(name, Peak())
            tree, stack = 0, [pid]
            while stack:
                p = stack.pop()
                tree += _rss_kb(p)
                stack += _children(p)
            peak.main_kb = max(peak.main_kb, _rss_kb(pid))
            peak.tree_kb = max(peak.tree_kb, tree)
            peak.fds = max(peak.fds, _fds(pid))

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._tick()

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._tick()


# --- the stack -----------------------------------------------------------------------------------------------


@dataclass
class Target:
    ingest: str
    store: str
    headers: dict[str, str]
    pids: dict[str, int]


@contextmanager
def own_stack(
    workdir: Path, extract_workers: int | None = None, classify_replicas: int = 1
) -> Iterator[Target]:
    """Start broker, topics and the four services (as ``make up`` does) on free ports in ``workdir``;
    ``extract_workers`` overrides ``INNSPILL_EXTRACT_WORKERS``, ``classify_replicas`` > 1 starts more
    classify processes in the same consumer group (as ``docker compose --scale classify=N`` would)."""
    from tools.cli.broker import free_port
    from tools.cli.stack import running_stack

    base = get_settings()
    settings = base.model_copy(
        update={
            "data_dir": workdir / "var",
            "database_url": None,
            "model_dir": base.resolved_model_dir.resolve(),
            "kafka_bootstrap": f"127.0.0.1:{free_port()}",
            "topic_prefix": f"bench{uuid.uuid4().hex[:6]}",
            "ingest_port": free_port(),
            "extract_port": free_port(),
            "classify_port": free_port(),
            "store_port": free_port(),
            **({"extract_workers": extract_workers} if extract_workers is not None else {}),
        }
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with running_stack(settings, settings.data_dir / "logs", explicit_bootstrap=False) as stack:
        for n in range(2, classify_replicas + 1):
            name = stack.start_service("classify", name=f"classify-{n}", port=free_port())
            wait_healthy(stack.replica_url(name))
        pids = {name: proc.pid for name, proc in stack.procs.items()}
        if stack.broker is not None:
            pids["broker"] = stack.broker.pid
        token = settings.token
        yield Target(
            stack.url("ingest"),
            stack.url("store"),
            {"Authorization": f"Bearer {token}"} if token else {},
            pids,
        )


def wait_healthy(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s:.0f} s")


# --- sending and following -----------------------------------------------------------------------------------


@dataclass
class Sent:
    path: Path
    status: int = 0
    document_id: str | None = None
    started: float = 0.0
    final: str | None = None
    latency_s: float | None = None
    error: str | None = None


async def _upload(client: httpx.AsyncClient, url: str, s: Sent, gate: asyncio.Semaphore | None) -> None:
    async def go() -> None:
        s.started = time.monotonic()
        try:
            with open(s.path, "rb") as fh:
                resp = await client.post(
                    f"{url}/documents", files={"file": (s.path.name, fh, "application/pdf")}, timeout=600
                )
        except httpx.HTTPError as exc:
            s.status, s.error = -1, repr(exc)
            return
        s.status = resp.status_code
        if resp.status_code in (200, 202):
            s.document_id = resp.json()["document_id"]
        else:
            s.error = resp.text[:200]

    if gate is None:
        await go()
    else:
        async with gate:
            await go()


async def _final_ids(client: httpx.AsyncClient, store: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for status in ("classified", "failed"):
        offset = 0
        while True:
            resp = await client.get(
                f"{store}/documents", params={"status": status, "limit": 1000, "offset": offset}, timeout=60
            )
            resp.raise_for_status()
            page = resp.json()
            out.update({d["id"]: status for d in page["items"]})
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
    return out


async def send_and_follow(
    target: Target, pdfs: list[Path], concurrency: int | None, timeout_s: float, poll_s: float = 0.5
) -> tuple[list[Sent], float]:
    """Upload every PDF (``concurrency`` at a time; ``None`` = all at once) and wait until each document is
    final. Returns the outcomes and the seconds from the first upload to the last final status."""
    limits = httpx.Limits(max_connections=concurrency or len(pdfs) + 8, max_keepalive_connections=64)
    sent = [Sent(p) for p in pdfs]
    async with httpx.AsyncClient(headers=target.headers, limits=limits) as client:
        gate = asyncio.Semaphore(concurrency) if concurrency else None
        t0 = time.monotonic()
        uploads = asyncio.gather(*(_upload(client, target.ingest, s, gate) for s in sent))
        up_task = asyncio.ensure_future(uploads)
        deadline = t0 + timeout_s
        last_final = t0
        while time.monotonic() < deadline:
            await asyncio.sleep(poll_s)
            try:
                finals = await _final_ids(client, target.store)
            except httpx.HTTPError:
                continue
            now = time.monotonic()
            for s in sent:
                if s.final is None and s.document_id and s.document_id in finals:
                    s.final, s.latency_s = finals[s.document_id], now - s.started
                    last_final = now
            if up_task.done() and all(s.final or not s.document_id for s in sent):
                break
        await up_task
    return sent, last_final - t0


async def idle_latency(target: Target, pdfs: list[Path], timeout_s: float = 120) -> list[float]:
    """Single letters one at a time on an otherwise idle system: upload -> classified, polled every 20 ms."""
    out: list[float] = []
    async with httpx.AsyncClient(headers=target.headers) as client:
        for pdf in pdfs:
            s = Sent(pdf)
            await _upload(client, target.ingest, s, None)
            if not s.document_id:
                raise RuntimeError(f"idle upload refused: {s.status} {s.error}")
            deadline = s.started + timeout_s
            while time.monotonic() < deadline:
                resp = await client.get(f"{target.store}/documents/{s.document_id}", timeout=10)
                if resp.status_code == 200 and resp.json()["status"] in ("classified", "failed"):
                    out.append(time.monotonic() - s.started)
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- main ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=int, default=200, help="distinct letters sent under load")
    ap.add_argument(
        "--baseline-letters", type=int, default=None, help="letters timed in-process (default: all)"
    )
    ap.add_argument("--paragraphs", type=int, default=36, help="paragraphs per letter (36: about 4 pages)")
    ap.add_argument("--idle", type=int, default=5, help="single letters sent one at a time, at idle")
    ap.add_argument("--concurrency", type=int, default=16, help="uploads in flight at once")
    ap.add_argument("--burst", action="store_true", help="send every upload at once (backpressure check)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for every final status")
    ap.add_argument("--use-running", action="store_true", help="use the stack at the settings' URLs")
    ap.add_argument("--ingest-url", default=None)
    ap.add_argument("--store-url", default=None)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--workdir", type=Path, default=None, help="keep letters, data and logs here")
    ap.add_argument(
        "--extract-workers", type=int, default=None, help="sandboxed extract workers (default: the setting)"
    )
    ap.add_argument(
        "--classify-replicas", type=int, default=1, help="classify processes in one consumer group"
    )
    args = ap.parse_args(argv)

    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="innspill-bench-") as tmp:
        work = args.workdir or Path(tmp)
        if args.workdir:
            work.mkdir(parents=True, exist_ok=True)
            print(f"work directory (letters, data, logs): {work}")
        t = time.perf_counter()
        pdfs = make_letters(args.letters, work / "letters", paragraphs=args.paragraphs)
        idle_pdfs = make_letters(args.idle + 1, work / "idle", start=args.letters + 1000)
        pages = [pdf_pages(p) for p in pdfs]
        print(
            f"letters: {len(pdfs)} distinct, {sum(pages)} pages ({statistics.mean(pages):.1f} per letter), "
            f"made in {time.perf_counter() - t:.1f} s; machine: {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f} at start"
        )

        baseline: Baseline | None = None
        if not args.no_baseline:
            chosen = pdfs[: args.baseline_letters or len(pdfs)]
            baseline = run_baseline(chosen, settings)
            print(
                f"in-process baseline (1 process, 1 core): {baseline.pages_per_s:.1f} pages/s "
                f"({baseline.pages} pages, {baseline.segments} segments, {baseline.letters} letters "
                f"in {baseline.seconds:.1f} s)"
            )

        @contextmanager
        def target() -> Iterator[Target]:
            if args.use_running:
                token = settings.token
                yield Target(
                    args.ingest_url or f"http://{settings.host}:{settings.ingest_port}",
                    args.store_url or f"http://{settings.host}:{settings.store_port}",
                    {"Authorization": f"Bearer {token}"} if token else {},
                    {},
                )
            else:
                t0 = time.monotonic()
                with own_stack(work, args.extract_workers, args.classify_replicas) as tgt:
                    workers = (
                        args.extract_workers if args.extract_workers is not None else settings.extract_workers
                    )
                    print(
                        f"stack started in {time.monotonic() - t0:.1f} s (broker + 4 services; extract workers "
                        f"{workers or os.cpu_count()}, classify replicas {args.classify_replicas})"
                    )
                    yield tgt

        with target() as tgt, Sampler(tgt.pids) as sampler:
            idle = asyncio.run(idle_latency(tgt, idle_pdfs))[1:]  # the first letter warms the stack
            sent, seconds = asyncio.run(
                send_and_follow(tgt, pdfs, None if args.burst else args.concurrency, args.timeout)
            )
            idle_after = asyncio.run(
                idle_latency(tgt, make_letters(2, work / "idle2", start=args.letters + 5000))
            )

        by_status: dict[int, int] = {}
        for s in sent:
            by_status[s.status] = by_status.get(s.status, 0) + 1
        finals = {k: sum(1 for s in sent if s.final == k) for k in ("classified", "failed")}
        not_final = sum(1 for s in sent if s.document_id and not s.final)
        done_pages = sum(p for p, s in zip(pages, sent, strict=True) if s.final == "classified")
        latencies = [s.latency_s for s in sent if s.latency_s is not None]
        rate = done_pages / seconds if seconds > 0 else 0.0

        print(
            f"uploads: {len(sent)} sent {'all at once' if args.burst else f'{args.concurrency} at a time'}; "
            f"HTTP status counts {dict(sorted(by_status.items()))}"
        )
        print(
            f"documents: {finals['classified']} classified, {finals['failed']} failed, {not_final} not final "
            f"after {args.timeout:.0f} s"
        )
        print(
            f"pipeline: {rate:.1f} pages/s ({done_pages} pages in {seconds:.1f} s, first upload -> last final)"
        )
        if baseline:
            print(f"ratio pipeline / in-process baseline: {rate / baseline.pages_per_s:.2f}")
        print(
            f"latency upload -> final under load: p50 {_pct(latencies, 0.5):.2f} s, p95 {_pct(latencies, 0.95):.2f} s "
            f"(polled every 0.5 s)"
        )
        print(
            f"latency upload -> classified at idle: p50 {_pct(idle, 0.5):.2f} s, p95 {_pct(idle, 0.95):.2f} s "
            f"({len(idle)} letters before the load); after the load: "
            f"{', '.join(f'{x:.2f}' for x in idle_after)} s"
        )
        if sampler.peaks:
            print("peak RSS per service (process / with its child processes), peak open file handles:")
            for name, peak in sampler.peaks.items():
                print(
                    f"  {name:9s} {peak.main_kb / 1024:7.0f} MB / {peak.tree_kb / 1024:7.0f} MB   fds {peak.fds}"
                )
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (a shared machine inflates every figure)")
    lost = not_final + sum(1 for s in sent if not s.document_id)
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
