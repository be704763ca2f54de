"""Everyday search queries with known answers, over short consultation letters written for this benchmark.

The letters are invented for the search benchmark (no seed letter or gold sentence is used). Each segment
lists the queries it is *about* — judged by meaning when the text was written, not by running a search:
a segment is relevant when its own text (any inflection, bokmål or nynorsk) speaks of the subject, or
when it sits under a heading naming the subject and its text continues on it. Mentions of a plan's name
(«samhandlingsplanen») do not make a segment about the plan's subject.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.extract.senders import kind_of
from shared.events import (
    DocumentExtracted,
    DocumentMetadata,
    DocumentReceived,
    Envelope,
    SegmentClassified,
    ThemeScore,
    make_event,
)
from shared.ids import document_id_for, segment_id_for, sha256_hex

#: query id -> the query as an analyst types it.
QUERIES: dict[str, str] = {
    "ikt": "IKT",
    "legevakt": "legevakta",
    "fastlege": "fastlegen",
    "kommune": "kommunene",
    "rekruttere": "rekruttere kompetanse",
    "samhandling": "samhandling",
    "sykehus": "sjukehus",
    "digital": '"digitale løsninger"',
    "tjeneste": "tenesta",
    "jordmor": "jordmødre",
}


@dataclass(frozen=True)
class Seg:
    text: str
    about: tuple[str, ...] = ()
    heading: tuple[str, ...] = ()


@dataclass(frozen=True)
class Letter:
    name: str
    sender: str
    segments: tuple[Seg, ...]


PLAN = "Innspill til Nasjonal helse- og samhandlingsplan 2024–2027"

LETTERS: tuple[Letter, ...] = (
    Letter(
        "fjordvik",
        "Fjordvik kommune",
        (
            Seg("Fjordvik kommune, Rådhusgata 4, 6800 Fjordvik", heading=(PLAN,)),
            Seg(
                "Vi viser til høringen om samhandlingsplanen og takker for muligheten til å gi innspill.",
                heading=(PLAN,),
            ),
            Seg(
                "Legevakta i Fjordvik dekker fire kommuner og har lange responstider om natta.",
                ("legevakt", "kommune"),
                (PLAN, "Legevakt"),
            ),
            Seg(
                "Det er krevende å rekruttere nok kompetanse til legevakten i helgene.",
                ("legevakt", "rekruttere"),
                (PLAN, "Legevakt"),
            ),
            Seg(
                "Fastlegene våre har for mange pasienter på listene sine.",
                ("fastlege",),
                (PLAN, "Fastlegeordningen"),
            ),
            Seg(
                "Vi foreslår at staten finansierer flere utdanningsstillinger for fastleger.",
                ("fastlege",),
                (PLAN, "Fastlegeordningen"),
            ),
            Seg("Med vennlig hilsen\nKari Nordmann\nkommunedirektør"),
        ),
    ),
    Letter(
        "havbu",
        "Havbu kommune",
        (
            Seg(
                "Havbu kommune har lenge arbeidet med bedre samhandling mellom kommunen og sykehuset.",
                ("samhandling", "sykehus", "kommune"),
                (PLAN,),
            ),
            Seg(
                "IKT-systemene i helsetjenesten snakker ikke sammen, og det gir dobbeltarbeid.",
                ("ikt",),
                (PLAN,),
            ),
            Seg("De viktigste utfordringene er avstander og en aldrende befolkning.", (), (PLAN,)),
            Seg(
                "Vi trenger felles digitale løsninger for meldingsutveksling mellom nivåene.",
                ("digital",),
                (PLAN,),
            ),
            Seg(
                "Kommunene bør få et tydeligere ansvar for oppfølging etter utskrivning.",
                ("kommune",),
                (PLAN,),
            ),
        ),
    ),
    Letter(
        "vestlandet",
        "Helse Vestland HF",
        (
            Seg(
                "Sjukehusa i regionen har for få senger til pasientar som ventar på kommunal plass.",
                ("sykehus",),
                ("Innspel frå føretaket",),
            ),
            Seg(
                "Samhandlinga mellom sjukehus og kommune må byggjast på felles planar.",
                ("samhandling", "sykehus", "kommune"),
                ("Innspel frå føretaket",),
            ),
            Seg(
                "Helsetenesta i distrikta manglar jordmødrer og sjukepleiarar.",
                ("tjeneste", "jordmor"),
                ("Innspel frå føretaket",),
            ),
            Seg(
                "Vi meiner IKT må vere ein del av grunnmuren i tenesta.",
                ("ikt", "tjeneste"),
                ("Innspel frå føretaket",),
            ),
            Seg("Helsing\nOla Nordmann\nadministrerande direktør"),
        ),
    ),
    Letter(
        "legeforeningen",
        "Den norske legeforening",
        (
            Seg(
                "Fastlegeordningen er grunnmuren i den kommunale helsetjenesten.",
                ("fastlege", "tjeneste"),
                ("Om fastlegeordningen",),
            ),
            Seg(
                "Mange fastleger rapporterer om arbeidsdager på over ti timer.",
                ("fastlege",),
                ("Om fastlegeordningen",),
            ),
            Seg(
                "En fastlege med 1 000 pasienter har ikke tid til samhandling med sykehuset.",
                ("fastlege", "samhandling", "sykehus"),
                ("Om fastlegeordningen",),
            ),
            Seg(
                "Legevakt og fastlege bør ses i sammenheng når kommunene planlegger.",
                ("legevakt", "fastlege", "kommune"),
                ("Om fastlegeordningen",),
            ),
            Seg(
                "Innsikt fra distriktene viser at rekruttering av leger tar tid.",
                (),
                ("Om fastlegeordningen",),
            ),
        ),
    ),
    Letter(
        "jordmorforbundet",
        "Jordmorforbundet NSF",
        (
            Seg(
                "Det er mangel på jordmødre i mange kommuner, særlig i nord.",
                ("jordmor", "kommune"),
                ("Følgetjeneste for gravide",),
            ),
            Seg(
                "Følgetjenesten for gravide med lang reisevei må styrkes.",
                ("tjeneste",),
                ("Følgetjeneste for gravide",),
            ),
            Seg(
                "En jordmor i kommunen kan avlaste sykehuset og fastlegen.",
                ("jordmor", "sykehus", "fastlege", "kommune"),
                ("Følgetjeneste for gravide",),
            ),
            Seg(
                "Vi må rekruttere jordmødre med riktig kompetanse til de små kommunene.",
                ("jordmor", "rekruttere", "kommune"),
                ("Kompetanse",),
            ),
            Seg("Vennlig hilsen\nForbundsleder"),
        ),
    ),
    Letter(
        "nordby",
        "Nordby kommune",
        (
            Seg(
                "Nordby kommune støtter målet om å rekruttere og beholde kompetanse i distriktene.",
                ("rekruttere", "kommune"),
                ("Rekruttering",),
            ),
            Seg("Vi trenger flere sykepleiere, og kompetansen må bygges lokalt.", (), ("Rekruttering",)),
            Seg(
                "Tjenesten må ha digitale løsninger som fungerer også der dekningen er dårlig.",
                ("digital", "tjeneste"),
                ("Digitalisering",),
            ),
            Seg(
                "Et felles journalsystem er den viktigste enkeltstående IKT-investeringen.",
                ("ikt",),
                ("Digitalisering",),
            ),
            Seg("Telefon 12 34 56 78 · postmottak@nordby.kommune.no"),
        ),
    ),
    Letter(
        "pasientforeningen",
        "Pasientforeningen",
        (
            Seg(
                "Pasienter opplever at tjenestene ikke henger sammen.", ("tjeneste",), ("Pasientens stemme",)
            ),
            Seg(
                "Vi ønsker en kontaktperson som følger pasienten mellom sykehus og kommune.",
                ("sykehus", "kommune"),
                ("Pasientens stemme",),
            ),
            Seg("Digitale løsninger må være universelt utformet.", ("digital",), ("Pasientens stemme",)),
            Seg(
                "Mange eldre har ikke tilgang til digitale verktøy eller løsninger som krever BankID.",
                (),
                ("Pasientens stemme",),
            ),
        ),
    ),
    Letter(
        "ostfold",
        "Østfold helsefellesskap",
        (
            Seg(
                "Helsefellesskapet er arenaen for samhandling mellom sykehuset og de 17 kommunene.",
                ("samhandling", "sykehus", "kommune"),
                ("Samhandling",),
            ),
            Seg(
                "Vi har utviklet felles pasientforløp for skrøpelige eldre.",
                ("samhandling",),
                ("Samhandling",),
            ),
            Seg(
                "Legevaktene i regionen er organisert som interkommunale samarbeid.",
                ("legevakt", "kommune"),
                ("Legevakt",),
            ),
            Seg(
                "Sykehuset Østfold har etablert en egen enhet for IKT og innovasjon.",
                ("sykehus", "ikt"),
                ("Digitalisering",),
            ),
            Seg("Statistikk fra distriktene viser økende ventetid.", (), ("Digitalisering",)),
        ),
    ),
    Letter(
        "sykepleierforbundet",
        "Norsk Sykepleierforbund",
        (
            Seg(
                "Sjukehuset og kommunen må dele kompetanse gjennom hospitering.",
                ("sykehus", "kommune"),
                ("Kompetanse",),
            ),
            Seg(
                "Det er vanskelig å rekruttere sykepleiere med spesialkompetanse.",
                ("rekruttere",),
                ("Kompetanse",),
            ),
            Seg(
                "Kommunal helse- og omsorgstjeneste trenger stabil bemanning.",
                ("tjeneste", "kommune"),
                ("Kompetanse",),
            ),
            Seg("Vi viser til samhandlingsplanen kapittel 4.", (), ("Kompetanse",)),
        ),
    ),
    Letter(
        "innlandet",
        "Innlandet fylkeskommune",
        (
            Seg(
                "Fylkeskommunen har ansvar for tannhelsetjenesten og videregående opplæring.",
                ("tjeneste",),
                ("Fylkeskommunens rolle",),
            ),
            Seg(
                "Helsefagarbeidere må utdannes nær der de skal jobbe, slik at kommunene kan rekruttere kompetanse lokalt.",
                ("rekruttere", "kommune"),
                ("Fylkeskommunens rolle",),
            ),
            Seg(
                "Vi anbefaler at IKT-løsninger anskaffes felles for kommunene i fylket.",
                ("ikt", "kommune"),
                ("Fylkeskommunens rolle",),
            ),
            Seg(
                "Digitale møteplasser og løsninger for veiledning er tatt i bruk.",
                (),
                ("Fylkeskommunens rolle",),
            ),
        ),
    ),
    Letter(
        "privat",
        "Helsehuset AS",
        (
            Seg(
                "Private aktører kan avlaste legevakten på kveldstid.", ("legevakt",), ("Private tilbydere",)
            ),
            Seg(
                "Våre fastleger tar imot pasienter fra nabokommunene.",
                ("fastlege", "kommune"),
                ("Private tilbydere",),
            ),
            Seg(
                "Vi leverer digitale løsninger for timebestilling til 40 kommuner.",
                ("digital", "kommune"),
                ("Private tilbydere",),
            ),
            Seg("Med hilsen daglig leder"),
        ),
    ),
    Letter(
        "ungdomsrad",
        "Ungdomsrådet i Bykle",
        (
            Seg("Unge vil ha helsetjenester på nett og i chat.", ("tjeneste",), ("Ungdommens innspill",)),
            Seg(
                "Skolehelsetenesta må vere open når elevane er på skulen.",
                ("tjeneste",),
                ("Ungdommens innspill",),
            ),
            Seg("Legevakt", ("legevakt",), ("Ungdommens innspill",)),
            Seg(
                "Det er for langt til nærmeste vakt om natta, og unge vet ikke hvem de skal ringe.",
                ("legevakt",),
                ("Ungdommens innspill", "Legevakt"),
            ),
        ),
    ),
)


def gold(query_id: str) -> set[tuple[str, int]]:
    """(letter name, seq) of the segments relevant to a query."""
    return {
        (letter.name, seq)
        for letter in LETTERS
        for seq, s in enumerate(letter.segments)
        if query_id in s.about
    }


def bench_themes(text: str, theme_ids: Sequence[str]) -> list[ThemeScore]:
    """One or two themes for a content segment, the same for the same text (a stand-in for the tagger's,
    so that the knowledge pages have themes and points to show)."""
    h = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    first = theme_ids[h % len(theme_ids)]
    second = theme_ids[(h // len(theme_ids)) % len(theme_ids)]
    return [ThemeScore(id=t, score=0.8) for t in dict.fromkeys((first, second))]


def letter_events(
    letters: Sequence[Letter] = LETTERS, copy: int = 0, theme_ids: Sequence[str] = ()
) -> list[Envelope[Any]]:
    """Store input events for the letters (``copy`` > 0 makes distinct documents of the same text). With
    ``theme_ids``, content segments carry ``bench_themes`` and each letter its sender kind."""
    events: list[Envelope[Any]] = []
    base = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    labels = ("challenge", "measure", "example", "other")
    for i, letter in enumerate(letters):
        name = letter.name if not copy else f"{letter.name}-{copy}"
        sha = sha256_hex(name.encode())
        did = document_id_for(sha)
        when = base + timedelta(minutes=i + copy * len(letters))
        rec = DocumentReceived(
            id=did,
            filename=f"{name}.pdf",
            sha256=sha,
            bytes=1000,
            content_type="application/pdf",
            blob_uri=f"blob://sha256/{sha}",
            source="http",
            received_at=when,
        )
        ext = DocumentExtracted(
            document_id=did,
            page_count=1,
            segment_count=len(letter.segments),
            metadata=DocumentMetadata(
                sender=letter.sender,
                title=f"Innspill fra {letter.sender}",
                sender_kind=kind_of(letter.sender) if theme_ids else "ukjent",
            ),
        )
        events += [make_event(rec, "bench"), make_event(ext, "bench")]
        for seq, s in enumerate(letter.segments):
            label = labels[(seq + i) % 4] if s.about else "other"
            seg = SegmentClassified(
                segment_id=segment_id_for(did, seq),
                document_id=did,
                seq=seq,
                page=1 + seq // 3,
                heading_path=list(s.heading),
                text=s.text,
                label=label,
                scores=bench_scores(label, labels, seq + i),
                model_version="bench",
                segment_count=len(letter.segments),
                themes=bench_themes(s.text, theme_ids) if theme_ids and label != "other" else [],
            )
            events.append(make_event(seg, "bench"))
    return events


def bench_scores(label: str, labels: Sequence[str], k: int) -> dict[str, float]:
    """Label scores as the classifier gives whole letters: content at 0.7; «other» sure (0.995) but for
    one segment in six, which the points grouping then sees as latent (about the share of the team's
    whole letters: services/store/points/grouping.py ``latent_label``)."""
    top = 0.7 if label != "other" or k % 6 == 0 else 0.995
    rest = (1.0 - top) / (len(labels) - 1)
    return {lab: (top if lab == label else rest) for lab in labels}


def doc_names(letters: Sequence[Letter] = LETTERS) -> dict[str, str]:
    """document_id -> letter name."""
    return {document_id_for(sha256_hex(letter.name.encode())): letter.name for letter in letters}
