"""Segmentation rules on hand-made lines: joining, hyphens, bullets, furniture templates, headings."""

from __future__ import annotations

from services.extract import textrules as tr
from services.extract.furniture import split_furniture, template
from services.extract.headings import classify_blocks
from services.extract.layout import Layout
from services.extract.metadata import normalise_date
from services.extract.model import HEADING, LETTER, LIST_ITEM, QUESTION, Line, Vocabulary
from services.extract.pdf_pipeline import build_blocks
from services.extract.senders import find_sender

RIGHT = 520.0


def line(
    text: str,
    top: float,
    page: int = 1,
    x1: float | None = None,
    size: float = 11.0,
    bold: bool = False,
    x0: float = 72.0,
) -> Line:
    width = x1 if x1 is not None else min(RIGHT, x0 + 5.3 * len(text))
    return Line(text=text, page=page, x0=x0, x1=width, top=top, bottom=top + size, size=size, bold=bold)


def blocks_of(pages: list[list[Line]]):
    flat = [ln for p in pages for ln in p]
    layout = Layout.measure(flat)
    vocab = Vocabulary(ln.text for ln in flat)
    blocks = build_blocks(pages, {}, layout, vocab)
    paths = classify_blocks(blocks, layout)
    return blocks, paths


def test_bullet_glyphs_and_numbers() -> None:
    for glyph in ("\uf0b7", "•", "o", "–", "▪"):
        assert tr.strip_bullet(f"{glyph} Tiltak for eldre") == "Tiltak for eldre"
    assert tr.bullet_prefix("omsorg for eldre") is None
    assert tr.is_numbered("1. Hva er de viktigste utfordringene?")
    assert tr.is_numbered("2) Andre punkt") and not tr.is_numbered("2022 var et godt år")


def test_hyphen_at_line_end() -> None:
    vocab = Vocabulary(["samhandling er viktig", "re-innleggelser"])
    # A real compound hyphen is kept, with no space.
    assert tr.join_lines(
        "unødvendige innleggelser /hyppige re-",
        "innleggelser for pasienter",
        vocab.keep_hyphen("hyppige re-", "innleggelser"),
    ) == ("unødvendige innleggelser /hyppige re-innleggelser for pasienter")
    assert tr.join_lines("tilbudet til ROP-", "pasienter er", vocab.keep_hyphen("ROP-", "pasienter")) == (
        "tilbudet til ROP-pasienter er"
    )
    # A word split by hyphenation is repaired when the whole word occurs elsewhere.
    assert not vocab.keep_hyphen("god sam-", "handling")
    assert tr.join_lines("god sam-", "handling", False) == "god samhandling"
    # A soft hyphen always marks a split word.
    assert tr.join_lines("sam\u00ad", "handling", True) == "samhandling"


def test_dates_and_senders() -> None:
    assert normalise_date("Stange, 3. august 2022") == "2022-08-03"
    assert normalise_date("Skaun 30.09.22") == "2022-09-30"
    assert normalise_date("Mars 2022") == "2022-03"
    assert tr.date_only("Oslo, 14.10.2026") and not tr.date_only("Vi viser til brev av 3. mai 2022 om planen")
    assert find_sender(
        [], [], ["Til Helse- og omsorgsdepartementet", "Lillevik kommune viser til brevet"]
    ) == ("Lillevik kommune")
    assert (
        find_sender([], [], ["Helsefellesskapet Nord og Sør har behandlet saken"])
        == "Helsefellesskapet Nord og Sør"
    )


def test_furniture_by_repetition_and_page_numbers() -> None:
    assert template("Side 3 av 12") == template("Side 4 av 12") == "side # av #"
    pages = []
    for n in (1, 2, 3):
        pages.append(
            [
                line("Lillevik kommune, Storgata 2", 30, page=n),
                line(f"Tekst på side {n} som er innhold og ikke gjentas likt.", 300, page=n),
                line(f"Side {n} av 3", 810, page=n),
            ]
        )
    # A footer that a text flow carried mid-page is recognised by its template too.
    pages[1].insert(2, line("Side 7 av 9", 400, page=2))
    body, furniture = split_furniture(pages)
    assert [ln.text for p in body for ln in p] == [
        f"Tekst på side {n} som er innhold og ikke gjentas likt." for n in (1, 2, 3)
    ]
    assert len(furniture) == 7


def test_single_page_number_without_repetition() -> None:
    body, furniture = split_furniture([[line("Et brev på én side med litt innhold.", 300), line("1", 815)]])
    assert [ln.text for ln in furniture] == ["1"] and len(body[0]) == 1


def test_paragraph_joining_and_breaks() -> None:
    p = [
        line("1. Hva er de viktigste utfordringene å adressere?", 100),
        line("Samhandling", 140),
        line("Kommunen har for få sykepleiere, og mange vakter står ubesatt hver", 170, x1=RIGHT),
        line("sommer. Det gir lange dager for de ansatte.", 184, x1=300),
        line("Neste avsnitt handler om noe annet og er langt nok til å fylle linjen", 198, x1=RIGHT),
        line("helt ut.", 212, x1=120),
        line("Vi foreslår dette:", 240),
        line("\uf0b7 Flere studieplasser i distriktet for sykepleiere", 254),
        line("• Bedre lønn for", 268, x1=160),
        line("nattevakter", 282, x1=140),
        line("Med vennlig hilsen", 320),
        line("Ola Nordmann", 334),
        line("rådmann", 348),
    ]
    blocks, paths = blocks_of([p])
    texts = [b.text for b in blocks]
    assert texts == [
        "1. Hva er de viktigste utfordringene å adressere?",
        "Samhandling",
        (
            "Kommunen har for få sykepleiere, og mange vakter står ubesatt hver sommer. Det gir lange dager for "
            "de ansatte."
        ),
        "Neste avsnitt handler om noe annet og er langt nok til å fylle linjen helt ut.",
        "Vi foreslår dette:",
        "Flere studieplasser i distriktet for sykepleiere",
        "Bedre lønn for nattevakter",
        "Med vennlig hilsen",
        "Ola Nordmann rådmann",
    ]
    kinds = [b.kind for b in blocks]
    assert kinds[0] == QUESTION and kinds[1] == HEADING and kinds[5] == kinds[6] == LIST_ITEM
    assert kinds[7] == kinds[8] == LETTER
    q = texts[0]
    assert paths[1] == [q] and paths[2] == [q, "Samhandling"] and paths[6] == [q, "Samhandling"]
    assert paths[7] == paths[8] == []


def test_a_section_line_heads_a_run_of_project_names_in_plain_text() -> None:
    # Plain lines with blank lines between: the examples section, three bare project names, a paragraph.
    texts = [
        "Kommunen har for få sykepleiere, og mange vakter står ubesatt hver sommer, særlig i distriktet.",
        "Gode døme frå Nord-Gudbrandsdal",
        "Lokalmedisinsk senter på Otta",
        "Kvardagsrehabilitering i Lom og Skjåk",
        "Frisklivssentralen i regionen",
        "Kommunane har sidan 2020 hatt eit felles team for kvardagsrehabilitering, og dei fleste klarer seg",
        "med mindre hjelp etter ti veker.",
    ]
    tops = [100, 128, 156, 184, 212, 240, 254]
    page = [line(t, top, x1=RIGHT if t.endswith("seg") else None) for t, top in zip(texts, tops)]
    blocks, paths = blocks_of([page])
    kinds = {b.text: b.kind for b in blocks}
    assert kinds["Gode døme frå Nord-Gudbrandsdal"] == HEADING
    assert kinds["Lokalmedisinsk senter på Otta"] != HEADING
    assert paths[[b.text for b in blocks].index("Lokalmedisinsk senter på Otta")] == [texts[1]]
    # The same run of short lines without the section line: no heading over the first two.
    blocks, _ = blocks_of([page[2:]])
    assert [b.kind for b in blocks[:2]] != [HEADING, HEADING]


def test_paragraph_continues_over_page_break_and_label_lead_in() -> None:
    p1 = [
        line("Bakgrunn", 100, bold=True),
        line("Kommunene og sykehuset har i mange år samarbeidet om tjenestene, og", 130, x1=RIGHT),
        line("avtalene er fornyet flere ganger. Dette har gitt et godt grunnlag for", 144, x1=RIGHT),
    ]
    p2 = [
        line("videre arbeid i helsefellesskapet.", 90, page=2, x1=260),
        line("Premisser:", 120, page=2),
        line("• Pasienten må vite hvem som har ansvaret.", 134, page=2),
        line("Et nytt avsnitt etter listen avslutter premissene og står for seg selv.", 170, page=2),
        line("Forankring", 200, page=2, bold=True),
        line("Saken er behandlet i alle kommunestyrene i regionen.", 214, page=2),
    ]
    blocks, paths = blocks_of([p1, p2])
    texts = [b.text for b in blocks]
    assert texts[1].endswith("grunnlag for videre arbeid i helsefellesskapet.")
    assert blocks[1].page == 1
    premiss = texts.index("Premisser:")
    assert blocks[premiss].kind == HEADING
    assert paths[premiss + 1] == ["Bakgrunn", "Premisser:"]
    assert paths[premiss + 2] == ["Bakgrunn"], "a label heads only its list"
    assert paths[texts.index("Forankring")] == [] and paths[-1] == ["Forankring"]


def test_numbered_question_over_two_lines_with_sub_question() -> None:
    p = [
        line("2. Hva opplever dere som mest krevende for å nå målene om mer sammenhengende,", 100, x1=RIGHT),
        line("bærekraftige tjenester?", 114, x1=200),
        line("Hva gjør dere konkret?", 128, x1=190),
        line(
            "Vi har opprettet et felles team for de mest sårbare pasientene i regionen, og det", 160, x1=RIGHT
        ),
        line("har gitt gode resultater.", 174, x1=200),
    ]
    blocks, paths = blocks_of([p])
    assert blocks[0].kind == QUESTION
    assert blocks[0].text.endswith("bærekraftige tjenester? Hva gjør dere konkret?")
    assert paths[1] == [blocks[0].text]


def test_paragraph_space_of_office_documents_splits_paragraphs() -> None:
    """6 pt after a paragraph at a 14.5 pt pitch (Word/LibreOffice defaults): full last line, still a break."""
    lines, top = [], 100.0
    for para in range(2):
        for n in range(3):
            text = (
                f"Avsnitt {para} linje {n} har full bredde og slutter med punktum her{'.' if n == 2 else ''}"
            )
            lines.append(line(text, top, x1=RIGHT))
            top += 14.5
        top += 6.0
    blocks, _ = blocks_of([lines])
    assert len(blocks) == 2 and all(len(b.lines) == 3 for b in blocks)


def test_right_aligned_date_and_closing_after_a_list_stand_alone() -> None:
    pages = [
        [
            line("Bergen, 14. november 2023", 100, x0=400.0, x1=RIGHT),
            line("Til Helse- og omsorgsdepartementet – vår ref. 23/1234", 114.5),
            line(
                "Vi foreslår at kommunene får hjelp med følgende oppgaver i årene som kommer:", 150, x1=RIGHT
            ),
            line("• felles opplæring av nyansatte i hjemmetjenesten", 164.5, x0=90.0),
            line("• felles journal for legevakt og fastleger i regionen", 179.0, x0=90.0),
            line("Med vennlig hilsen", 193.5),
        ]
    ]
    blocks, _ = blocks_of(pages)
    texts = [b.text for b in blocks]
    assert texts[0] == "Bergen, 14. november 2023"
    assert texts[-1] == "Med vennlig hilsen"
    assert "felles journal for legevakt og fastleger i regionen" in texts


def test_list_item_with_hanging_indent_ends_where_the_margin_text_starts() -> None:
    pages = [
        [
            line("Tiltakene vi ønsker er disse:", 100),
            line(
                "• en nasjonal ordning for rekruttering av sykepleiere til små kommuner som",
                114.5,
                x0=80.0,
                x1=RIGHT,
            ),
            line("ligger langt fra utdanningsstedene", 129.0, x0=92.0),
            line(
                "Kommunen har allerede startet et prosjekt med studenter i praksis hele året.",
                143.5,
                x1=RIGHT,
            ),
        ]
    ]
    blocks, _ = blocks_of(pages)
    assert blocks[1].kind == LIST_ITEM
    assert blocks[1].text.endswith("utdanningsstedene")
    assert blocks[2].text.startswith("Kommunen har allerede")


def test_the_most_prominent_block_is_the_title_and_numbered_headings_are_siblings() -> None:
    pages = [
        [
            line("Helse Vestkyst HF, Postboks 12, 5000 Bergen", 60, bold=True),
            line("Innspill til helse- og samhandlingsplanen", 100, size=14.0, bold=True),
            line("1. Hva er de viktigste utfordringene?", 140, bold=True),
            line(
                "Sykehuset har for få senger til eldre pasienter, og korridorpasienter er vanlig hele året.",
                160,
                x1=RIGHT,
            ),
            line("2. Gode eksempler", 200, bold=True),
            line(
                "Kommunene har hatt felles legevakt siden 2019, og ordningen fungerer godt for alle parter.",
                220,
                x1=RIGHT,
            ),
        ]
    ]
    blocks, paths = blocks_of(pages)
    by_text = {b.text: (b.kind, p) for b, p in zip(blocks, paths)}
    assert by_text["Innspill til helse- og samhandlingsplanen"][0] == "title"
    assert by_text["Helse Vestkyst HF, Postboks 12, 5000 Bergen"][0] == LETTER
    assert by_text["2. Gode eksempler"][1] == []
    assert paths[-1] == ["2. Gode eksempler"]


def test_column_gutters_of_a_table_ruled_only_across() -> None:
    from services.extract.tables import _gutters

    def word(x0: float, x1: float) -> dict:
        return {"x0": x0, "x1": x1, "top": 100.0, "bottom": 110.0}

    left = [word(72, 110), word(115, 160), word(72, 150)]
    right = [word(300, 350), word(355, 500), word(300, 480)]
    cuts = _gutters(left + right, (70.0, 90.0, 525.0, 300.0))
    assert len(cuts) == 1 and 160 < cuts[0] < 300
    # Running text with no gap that every row leaves empty is not a table.
    assert _gutters([word(72, 300), word(250, 520)], (70.0, 90.0, 525.0, 300.0)) == []


def test_logo_line_in_the_top_band_is_not_the_title_and_parent_headings_rank_higher() -> None:
    pages = [
        [
            line("Lillevik kommune HF", 40, size=16.0, bold=True),
            line("Innspill til helse- og samhandlingsplanen", 140, size=14.0, bold=True),
            line("Vurdering", 180, bold=True),
            line("Legevakt", 200, bold=True),
            line(
                "Legevakten har for få leger om natten, og ventetiden på telefon er ofte over en time.",
                220,
                x1=RIGHT,
            ),
            line("Fastleger", 260, bold=True),
            line(
                "Mange innbyggere står uten fastlege, og listene hos de som er igjen er lange.", 280, x1=RIGHT
            ),
        ]
    ]
    blocks, paths = blocks_of(pages)
    kinds = {b.text: b.kind for b in blocks}
    assert kinds["Innspill til helse- og samhandlingsplanen"] == "title"
    assert kinds["Lillevik kommune HF"] == LETTER
    assert paths[-1] == ["Vurdering", "Fastleger"]


def test_a_table_row_cut_by_a_page_break_is_one_row_again() -> None:
    from services.extract.model import Table
    from services.extract.tables import continues, join_tables

    def cell(text: str, page: int, top: float) -> list[Line]:
        return [line(text, top, page=page, x0=80.0)]

    header = [cell("Krevende faktorer", 1, 100), cell("Tiltak", 1, 100)]
    first = Table(
        page=1,
        top=90,
        bottom=800,
        x0=72,
        x1=520,
        cells=[
            header,
            [cell("Lange avstander til sykehus", 1, 700), cell("Felles ambulanse og", 1, 700)],
        ],
    )
    repeated = [cell("Krevende faktorer", 2, 60), cell("Tiltak", 2, 60)]
    rest = Table(
        page=2,
        top=50,
        bottom=300,
        x0=72.5,
        x1=519.5,
        cells=[
            repeated,
            [None, cell("legevakt for tre kommuner.", 2, 80)],
            [cell("For få sykepleiere", 2, 120), cell("Lønnstillegg i distriktene.", 2, 120)],
        ],
    )
    assert continues(first, rest)
    joined = join_tables(first, rest)
    texts = [[" ".join(ln.text for ln in c or []) for c in row] for row in joined.cells]
    assert texts == [
        ["Krevende faktorer", "Tiltak"],
        ["Lange avstander til sykehus", "Felles ambulanse og legevakt for tre kommuner."],
        ["For få sykepleiere", "Lønnstillegg i distriktene."],
    ]
    elsewhere = Table(page=3, top=50, bottom=300, x0=72, x1=520, cells=rest.cells)
    assert not continues(first, elsewhere)
