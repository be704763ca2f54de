"""Who sent a letter, and what kind of sender that is (``shared.events.SENDER_KINDS``).

The sender is the organisation, not the person who wrote or signed for it, wherever an organisation is
named: in a ``Fra:``/``Innsender:`` header line, the letterhead, the signature block ("rådgiver,
Kreftforeningen") or the opening sentence ("Lillevik kommune viser til ..."). A letter from a private
person is sent by that person. The kind follows from how Norwegian public bodies and organisations name
themselves: ``<navn> kommune``/``herad``, ``<fylke> fylkeskommune``, ``Helsefellesskapet <område>``,
health trusts as ``... HF``/``RHF`` or ``Sykehuset ...``, state bodies as ``Statsforvalteren i ...``,
``...direktoratet``, ``Statens ...``, universities, ombud and supervisory authorities; companies end in
``AS``; associations, unions, councils and alliances are organisations.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from shared.events import SenderKind

_CAP = r"[A-ZÆØÅ][\wæøåÆØÅ\-]*"
_CAP_START = re.compile(r"^[A-ZÆØÅ]")
_EMAIL = re.compile(r"<[^>]*>|\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
#: "Høringsinnspill fra X (til ...)": a title or running header that names the sender.
_INPUT_FROM = re.compile(
    r"^\s*(?:høringsinnspill|høyringsinnspel|høringssvar|høyringssvar|innspill|innspel|uttalelse|fråsegn)"
    r"\s+(?:fra|frå)\s+(?P<name>.+?)(?:\s+(?:til|om|på|vedrørende|vedr\.)\s+.*|\s+[-–—]\s+.*)?$",
    re.I,
)
_HEADER = re.compile(
    r"^\s*(?:fra|frå|avsender|avsendar|innsender|innsendar|innsendt av|sendt av|sendt frå)\s*:"
    r"\s*(?P<value>.*)$",
    re.I,
)
#: A joint letter: "(Innspill) fra kommunene Lillevik, Nordby og Fjordheim" or "... fra Lillevik, Nordby og
#: Fjordheim kommuner". The first municipality named stands for them (the one that sent the letter in).
_JOINT_MUNICIPALITIES = re.compile(
    rf"\b[Ff]r[aå]\s+[Kk]ommun[ea]ne\s+(?P<first>{_CAP})(?:\s*,\s*{_CAP})*\s+og\s+{_CAP}"
    rf"|\b[Ff]r[aå]\s+(?P<first2>{_CAP})(?:\s*,\s*{_CAP})*\s+og\s+{_CAP}\s+kommun(?:er|ar)\b",
)
_NOT_GIVEN = re.compile(r"^(?:ikke|ikkje)\s+oppgitt|^anonym|^ukjent", re.I)
_ADDRESSEE = re.compile(r"^\s*(?:til|att\.?|attn\.?|mottaker|kopi(?:\s+til)?)\b", re.I)

#: Kind by the organisation's own name, most specific first.
_KIND_RULES: list[tuple[SenderKind, re.Pattern[str]]] = [
    ("helsefellesskap", re.compile(r"helsefel+es+kap", re.I)),
    ("fylkeskommune", re.compile(r"fylkeskommun", re.I)),
    # a regional council is the municipalities' own joint political body (an «interkommunalt politisk
    # råd», kommuneloven chapter 18), not an association: it speaks for its municipalities
    (
        "kommune",
        re.compile(
            r"\b(?:kommune|kommuna|herad|heradet|bykommune|gielda|suohkan)\b"
            r"|regionrå(?:d|det)\b|interkommunale?\s+politiske?\s+råd",
            re.I,
        ),
    ),
    (
        "helseforetak",
        re.compile(
            r"\bR?HF\b|\bsykehus(?:et)?\b|\bsjukehus(?:et)?\b|universitetssykehus|sykehuset|sjukehuset"
            r"|^Helse\s+(?:Nord|Midt-Norge|Vest|Sør-Øst|Bergen|Stavanger|Fonna|Førde|Møre)\b"
            r"|^Sunnaas|^Oslo universitetssykehus|^St\.? Olavs",
            re.I,
        ),
    ),
    (
        "statlig",
        re.compile(
            r"statsforval(?:te|ta)r|fylkesmann|fylkesmannen|direktorat|departement|^statens\b|universitet|høgskole|"
            r"høgskule|ombud|ombod|tilsyn|folkehelseinstitutt|\bhelfo\b|\bSF\b|^NAV\b|sametinget|"
            r"\bkompetansesenter|\bregionale\s+(?:kompetansesenter|senter)",
            re.I,
        ),
    ),
    (
        "privat",
        # companies, and pharmacies by their shop names ("Apotek 1 Sentrum", "Vitusapotek Lillevik")
        re.compile(r"\b(?:AS|ASA|ANS|DA|SA|BA|Ltd|GmbH|AB)\b\.?(?:\s*,|$|\s+[-–])|(?i:\b\w*apotek\b)"),
    ),
    (
        "organisasjon",
        re.compile(
            r"forbund|forening|foreining|organisasjon|allianse|\brådet\b|\bråd\b|rådet\b|"
            r"^KS\b|^LHL\b|^Mental Helse\b|\blag(?:et)?\b|lokallag|nettverk|stiftelse|fellesskapet\b|"
            r"forum\b|samarbeid(?:et)?\b|\bunion\b|akademi|selskap(?:et)?\b|samfunn(?:et)?\b|^Norsk\b|^Norske\b|^Den norske\b",
            re.I,
        ),
    ),
]

#: A web form's word for a sender who writes as a private person ("Innsender: Privatperson").
_PRIVATE_PERSON = re.compile(r"^(?:privat\s*person|privatpersonar?|privatpersoner|innbygg[ea]r)\b", re.I)

#: Words that start lines which are not names (document titles, greetings, reference lines).
_NOT_A_NAME = {
    "innspill",
    "innspel",
    "høringsinnspill",
    "høyringsinnspel",
    "høring",
    "høyring",
    "med",
    "vennlig",
    "venleg",
    "hilsen",
    "helsing",
    "til",
    "fra",
    "frå",
    "dato",
    "saksnr",
    "vår",
    "deres",
    "dykkar",
    "vedlegg",
    "nasjonal",
    "referat",
    "sak",
    "svar",
    "om",
    "kopi",
    "side",
    "postboks",
    "sendt",
    "emne",
}
_PERSON = re.compile(rf"^(?:{_CAP})(?:\s+{_CAP}){{1,3}}$")
_SURNAME_FIRST = re.compile(rf"^(?P<last>{_CAP}),\s*(?P<first>{_CAP}(?:\s+{_CAP})?)\s*$")
#: Organisation names inside running text ("... viser til", "Sekretariatet for Helsefellesskapet X").
_ORG_IN_TEXT = [
    re.compile(rf"\b((?:{_CAP}\s+(?:og\s+)?){{1,3}}(?:fylkes)?kommune)\b"),
    re.compile(rf"\b({_CAP}\s+herad)\b"),
    re.compile(
        rf"\b(Helsefellesskapet(?:\s+(?:i|for))?(?:\s+{_CAP}(?:\s+og\s+{_CAP})?)+(?:-området)?)(?=[\s,.;:)]|$)"
    ),
    re.compile(rf"\b(Statsforval(?:teren|taren)\s+i\s+{_CAP}(?:\s+og\s+{_CAP})?)\b"),
    re.compile(rf"\b((?:Sykehuset|Sjukehuset)\s+{_CAP}(?:\s+{_CAP})?(?:\s+R?HF)?)\b"),
    re.compile(
        rf"((?:\bSt\.\s*)?\b{_CAP}(?:\s+(?:{_CAP}|og|i|universitetssykehus|universitetssjukehus|sykehus|sjukehus|hospital))"
        rf"{{0,3}}\s+R?HF)\b"
    ),
]
#: Names that are trusted only where the sender is stated ("Fra: ..."), not in running text.
_ORG_STATED = [
    *_ORG_IN_TEXT,
    re.compile(rf"\b({_CAP}(?:\s+{_CAP}){{0,3}}\s+AS)\b"),
    re.compile(
        r"\b((?:Den\s+norske\s+|Norsk\s+|Norske\s+)?[\wæøå\-]*(?:forening|foreining|forbund)(?:en|et)?)\b"
    ),
]
#: Bare keywords are not names.
_BARE = {"hf", "rhf", "as", "asa", "sf", "kommune", "fylkeskommune", "helsefellesskapet", "sykehuset"}


def kind_of(name: str | None) -> SenderKind:
    """The sender kind that an organisation's (or person's) name shows."""
    if not name:
        return "ukjent"
    name = name.strip()
    if _PRIVATE_PERSON.match(name):
        return "person"
    for kind, pattern in _KIND_RULES:
        if pattern.search(name):
            return kind
    if _is_person(name):
        return "person"
    return "organisasjon"


def _is_person(text: str) -> bool:
    text = text.strip()
    if not _PERSON.match(text):
        return False
    words = text.split()
    if words[0].lower() in _NOT_A_NAME or any(w.isupper() and len(w) > 1 for w in words):
        return False
    return not any(pattern.search(text) for _, pattern in _KIND_RULES)


def _head(text: str) -> str:
    """The name part of a line: before an e-mail address, a comma, a dash or a parenthesis."""
    text = _EMAIL.sub(" ", text)
    text = re.split(r"\s+[-–—]\s+|,|\(|\s{2,}|\|", text, maxsplit=1)[0]
    return re.sub(r"\s+", " ", text).strip(" .:;")


def _is_org(name: str) -> bool:
    """A name an organisation could have: capitalised, short, not a bare keyword, no sentence, not a
    genitive phrase ("Helsefellesskapets svar")."""
    if not name or re.search(r"[\d()]", name):
        return False
    first_key = min((m.start() for _, p in _KIND_RULES if (m := p.search(name))), default=-1)
    if first_key > 0 and _PREPOSITION.search(name[:first_key]):
        return False  # "Erfaringer fra Helsefellesskapet": a phrase about an organisation
    words = name.split()
    key_word = len(name[: max(first_key, 0)].split()) - (first_key > 0 and not name[first_key - 1].isspace())
    # Long names carry their keyword up front ("Foreningen for ...", "Norsk forening for ...") or at the
    # end ("Møre og Romsdal fylkeskommune"); elsewhere it is a sentence that mentions one.
    if len(words) > 3 and key_word > 2 and not any(p.search(words[-1]) for _, p in _KIND_RULES):
        return False
    return (
        bool(name)
        and (name.startswith("Statens ") or not re.match(r"^\S+(?:ets|ens)\s+[a-zæøå]", name))
        and bool(_CAP_START.match(name))
        and len(name.split()) <= 9
        and name.lower() not in _BARE
        and not name.rstrip().endswith((".", "?", "!"))
        and any(p.search(name) for _, p in _KIND_RULES)
    )


def _org_in(text: str, patterns: list[re.Pattern[str]] | None = None) -> str | None:
    text = _EMAIL.sub(" ", text)
    for pattern in patterns or _ORG_IN_TEXT:
        for m in pattern.finditer(text):
            name = m.group(1).strip()
            first = name.split()[0].lower()
            if first in _NOT_A_NAME or "departement" in name.lower() or name.lower() in _BARE:
                continue
            return name
    return None


def _line_org(text: str) -> str | None:
    """An organisation that a short line names: the line's head ("Helse Fonna HF, Postboks 2170"), or
    the organisation after a name and title ("Kari Nordmann rådgiver Lillevik kommune"), or, for
    "title, Organisation" signature lines, a later part."""
    if len(text) > 160 or _ADDRESSEE.match(text) or text.rstrip().endswith(":"):
        return None
    head = _head(text)
    if _is_org(head) and head.split()[0].lower() not in _NOT_A_NAME and "departement" not in head.lower():
        named = _org_in(head, _ORG_IN_TEXT)
        before = head[: len(head) - len(named)].strip() if named and head.endswith(named) else ""
        if named and before and not _UNIT.match(head) and not re.search(r"\b(?:i|for|og|på)$", before):
            return named  # a person and a title before the organisation
        return _strip_unit(head)
    for part in re.split(r",|\s+[-–—]\s+", _EMAIL.sub(" ", text))[1:]:
        part = part.strip(" .")
        if _is_org(part) and _CAP_START.match(part) and "departement" not in part.lower():
            return _strip_unit(part)
    return None


_PREPOSITION = re.compile(r"\b(?:fra|frå|til|om|mot|med|av|ved|hos)\s*$|\b(?:fra|frå|til|om|mot|ved)\b", re.I)
_UNIT = re.compile(r"^(?:sekretariatet|sekretariat)(?:\s+(?:for|i))?\s+", re.I)


def _strip_unit(name: str) -> str:
    return _UNIT.sub("", name).strip()


def _header_sender(value: str) -> tuple[str | None, bool]:
    """(sender, decided) from the value of a ``Fra:``/``Innsender:`` line."""
    value = value.strip()
    if not value or _NOT_GIVEN.match(value):
        return None, True
    bare = _EMAIL.sub(" ", value).strip(" ,")
    org = _org_in(bare, _ORG_STATED)
    head = _strip_unit(_head(value))
    if _is_org(head):
        return head, True
    if org:
        return org, True
    m = _SURNAME_FIRST.match(bare)
    if m:  # "Lien, Torstein <torstein.lien@...>": a person writing from a work address
        return f"{m.group('first')} {m.group('last')}", False
    if _is_person(head):
        return head, False
    return (head or None), False


def find_sender(top: list[str], signature: list[str], body: list[str]) -> str | None:
    """The sender from the letter's top lines (letterhead, header fields), its signature block and its
    first sentences, in that order of trust; an organisation always wins over a person."""
    person: str | None = None
    top = list(dict.fromkeys(top))  # running headers repeat on every page
    for text in top:
        m = _HEADER.match(text)
        if m:
            sender, decided = _header_sender(m.group("value"))
            if decided:
                return sender
            person = person or sender
    for text in [*top[:8], *body[:2]]:
        m = _JOINT_MUNICIPALITIES.search(text)
        if m and m.start() <= 40 and len(text.split()) <= 25:  # a line that states it, not a sentence
            # that mentions some municipalities in passing
            return f"{m.group('first') or m.group('first2')} kommune"
    for text in top[:5]:
        if _HEADER.match(text):
            continue
        org = _line_org(text)
        if org:
            return org
    for text in top:
        m = _INPUT_FROM.match(text)
        if m and _is_org(_head(m.group("name"))):
            return _strip_unit(_head(m.group("name")))
    for text in reversed(signature):
        org = _line_org(text)
        if org:
            return org
    for text in body:
        if _ADDRESSEE.match(text):
            continue
        org = _org_in(text)
        if org:
            return org
    if person:
        return person
    # A private person: the name that opens the letter ("Kari Nordmann, Hamar") and signs it.
    names = [_head(t) for t in top[:3]] + [_head(t) for t in signature[-3:]]
    people = Counter(n for n in names if _is_person(n))
    if people:
        name, count = people.most_common(1)[0]
        if count >= 2 or any(_head(t) == name and "," in t for t in top[:2]):
            return name
    return None


def most_named_org(texts: Iterable[str]) -> str | None:
    """The organisation a letter names most often (at least twice): the sender of a letter whose
    letterhead and signature were not in the file, such as a case document from a board meeting."""
    counts: Counter[str] = Counter()
    for text in texts:
        for pattern in _ORG_IN_TEXT:
            for m in pattern.finditer(text):
                name = m.group(1).strip()
                if name.split()[0].lower() in _NOT_A_NAME or "departement" in name.lower():
                    continue
                if name.lower() not in _BARE:
                    counts[name] += 1
    if not counts:
        return None
    name, count = counts.most_common(1)[0]
    return name if count >= 2 else None
