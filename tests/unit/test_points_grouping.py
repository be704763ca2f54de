"""services/store/points: planted points group, near misses do not, incremental keeps ids, min_senders."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from services.store.points.grouping import (
    Config,
    Point,
    PointGrouper,
    Segment,
    add_segments,
    average_linkage,
    group_segments,
    latent_label,
    point_id,
)

HANDSET = Config(scorer="handset")
SCORERS = pytest.mark.parametrize("cfg", [Config(), HANDSET], ids=["learned", "handset"])


def seg(sid: str, sender: str, text: str, label: str = "measure", themes: tuple[str, ...] = ()) -> Segment:
    return Segment(
        segment_id=sid, document_id=f"doc-{sender}", sender=sender, label=label, themes=themes, text=text
    )


# One point (shared patient records) in three wordings, plus unrelated and near-miss segments. Themes as the
# classifier tags them: the store groups segments that carry themes.
RECORDS = ("digitalisering", "samhandling")
JOURNAL = [
    seg(
        "a1",
        "Elvebakken kommune",
        "Vi trenger én felles journal som fastlegen og hjemmesykepleien kan bruke.",
        themes=RECORDS,
    ),
    seg(
        "b1",
        "Helse Fjellvik HF",
        "Sykehus og kommune må kunne dele opplysningene i pasientjournalen.",
        themes=RECORDS,
    ),
    seg(
        "c1",
        "Pasientlaget Nord",
        "Kjernejournalen bør utvides så legene ser hva andre har registrert.",
        themes=RECORDS,
    ),
]
OTHER = [
    seg(
        "d1",
        "Elvebakken kommune",
        "Frivilligsentralen trenger mer penger til besøksvenner.",
        themes=("forebygging", "eldre"),
    ),
    seg(
        "e1",
        "Strandvik kommune",
        "Det bør innføres én time fysisk aktivitet hver dag i skolen.",
        themes=("forebygging", "barn"),
    ),
]


def point_of(points: list[Point], sid: str) -> Point:
    return next(p for p in points if any(m.segment_id == sid for m in p.members))


@SCORERS
def test_planted_point_in_different_words_groups(cfg: Config) -> None:
    points = group_segments(JOURNAL + OTHER, min_senders=2, config=cfg)
    assert len(points) == 1
    p = points[0]
    assert {m.segment_id for m in p.members} == {"a1", "b1", "c1"}
    assert p.sender_count == 3 and p.label == "measure"
    assert p.summary and p.keywords and p.id.startswith("pt-")
    assert "felles journal" in p.keywords


# The themes the tagger gives the near misses below (var/models/default, round 13): all three name funding.
NEAR_MISS_THEMES = (
    ("personell", "finansiering"),
    ("finansiering", "digitalisering", "eldre"),
    ("allmennlege", "personell", "finansiering"),
)


@SCORERS
@pytest.mark.parametrize("tagged", [False, True], ids=["no-themes", "tagged"])
def test_near_miss_same_words_different_purpose_does_not_merge(cfg: Config, tagged: bool) -> None:
    themes = NEAR_MISS_THEMES if tagged else ((), (), ())
    near = [
        seg(
            "r1",
            "Elvebakken kommune",
            "Vi ber om øremerkede midler til rekruttering av sykepleiere.",
            themes=themes[0],
        ),
        seg(
            "r2",
            "Strandvik kommune",
            "Vi ber om øremerkede midler til digitalisering av hjemmetjenesten.",
            themes=themes[1],
        ),
        seg(
            "r3",
            "Fjellvik kommune",
            "Vi ber om øremerkede midler til rekruttering og stabilisering av fastleger.",
            themes=themes[2],
        ),
    ]
    points = group_segments(near, min_senders=1, config=cfg)
    assert point_of(points, "r1").id != point_of(points, "r2").id
    # different professions: nurses vs GPs are different points even with the same instrument
    assert point_of(points, "r1").id != point_of(points, "r3").id


@SCORERS
def test_labels_and_themes_separate(cfg: Config) -> None:
    segs = [
        seg("x1", "A", "Vi trenger én felles journal for kommune og sykehus."),
        seg(
            "x2", "B", "Journalsystemene snakker ikke sammen, og opplysninger forsvinner.", label="challenge"
        ),
        seg("x3", "C", "Med vennlig hilsen", label="other"),
    ]
    points = group_segments(segs, min_senders=1, config=cfg)
    assert point_of(points, "x1").id != point_of(points, "x2").id
    assert all(m.segment_id != "x3" for p in points for m in p.members)
    themed = [
        seg("t1", "A", "Vi trenger én felles journal for kommune og sykehus.", themes=("digitalisering",)),
        seg("t2", "B", "Deling av pasientopplysninger må bli enklere.", themes=("eldre",)),
    ]
    assert len(group_segments(themed, min_senders=2, config=cfg)) == 0


def test_min_senders() -> None:
    same_sender = [
        seg("s1", "Elvebakken kommune", "Vi trenger én felles journal som fastlegen kan bruke."),
        seg(
            "s2",
            "Elvebakken kommune",
            "Deling av pasientopplysninger mellom kommune og sykehus må bli enkelt.",
        ),
    ]
    assert group_segments(same_sender, min_senders=2, config=HANDSET) == []
    one = group_segments(same_sender, min_senders=1, config=HANDSET)
    assert len(one) == 1 and one[0].sender_count == 1 and len(one[0].members) == 2


def test_learned_scorer_never_links_two_segments_of_one_sender() -> None:
    a1, _b1, c1 = JOURNAL
    # the same two texts link when two senders write them, and not when one sender writes both
    assert len(group_segments([a1, c1], min_senders=2)) == 1
    again = dataclasses.replace(c1, sender=a1.sender, document_id=a1.document_id)
    assert group_segments([a1, again], min_senders=2) == []
    assert len(group_segments([a1, again], min_senders=1)) == 2


@SCORERS
def test_incremental_add_keeps_old_ids_and_members(cfg: Config) -> None:
    g = PointGrouper(cfg)
    g.fit(JOURNAL + OTHER)
    before = g.assignments()
    journal_id = before["a1"]
    g.add(
        [
            seg(
                "f1",
                "Sørby kommune",
                "Fastlegen og hjemmesykepleien må bruke én felles journal.",
                themes=RECORDS,
            ),
            seg(
                "g1",
                "Sørby kommune",
                "Ventetiden for rehabilitering etter hjerneslag er for lang.",
                label="challenge",
            ),
        ]
    )
    after = g.assignments()
    assert all(after[sid] == pid for sid, pid in before.items())  # nothing old moved
    assert after["f1"] == journal_id  # the new letter joined the existing point
    assert after["g1"] not in set(before.values())  # something new became a new point
    top = g.points(min_senders=2)[0]
    assert top.id == journal_id and top.sender_count == 4


@SCORERS
def test_functional_incremental_and_recompute_carry_ids(cfg: Config) -> None:
    everything = group_segments(JOURNAL + OTHER, min_senders=1, config=cfg)
    journal_id = point_of(everything, "a1").id
    later = add_segments(
        everything,
        [seg("h1", "Nordøy kommune", "Felles journal for alle nivåer er det viktigste tiltaket.")],
        min_senders=1,
        config=cfg,
    )
    assert point_of(later, "h1").id == journal_id
    assert {p.id for p in everything} <= {p.id for p in later}
    # a recompute in another order would found the point on another segment; previous keeps the id
    shuffled = list(reversed(JOURNAL + OTHER))
    again = group_segments(shuffled, min_senders=1, previous=everything, config=cfg)
    assert point_of(again, "a1").id == journal_id


@SCORERS
def test_a_carried_id_never_repeats_as_the_id_of_a_new_point(cfg: Config) -> None:
    # an earlier grouping's point founded by d1 held what is now the journal point; a regrouping carries
    # its id to the journal point, so d1's own new point must take another id (the store writes all
    # points at once: two with one id failed the write)
    everything = group_segments(JOURNAL + OTHER, min_senders=1, config=cfg)
    journal = point_of(everything, "a1")
    old = dataclasses.replace(journal, id=point_id("d1"))
    again = group_segments(JOURNAL + OTHER, min_senders=1, previous=[old], config=cfg)
    ids = [p.id for p in again]
    assert len(ids) == len(set(ids))
    assert point_of(again, "a1").id == point_id("d1") != point_of(again, "d1").id
    # ... and a grouper rebuilt from those points adds to them without a clash
    later = add_segments(
        again, [seg("k1", "Kvitfjell kommune", "Fysisk aktivitet hver dag i skolen.")], config=cfg
    )
    assert len({p.id for p in later}) == len(later)


def test_average_linkage_merges_by_mean_similarity() -> None:
    m = np.array(
        [
            [0, 0.9, 0.5, 0.0],
            [0.9, 0, 0.1, 0.0],
            [0.5, 0.1, 0, 0.0],
            [0.0, 0.0, 0.0, 0],
        ]
    )
    # {0,1} merge at 0.9; then mean(0.5, 0.1) = 0.3 < 0.4 keeps 2 apart
    assert average_linkage(sp.csr_matrix(m), 0.4) == [[0, 1], [2], [3]]
    assert average_linkage(sp.csr_matrix(m), 0.25) == [[0, 1, 2], [3]]


# ---- broadened lexicon (concepts across all 15 themes) and the evaluation loader -------------------------
def test_lexicon_covers_every_taxonomy_theme() -> None:
    import json
    from pathlib import Path

    from shared.lexicon import load_lexicon

    lex = load_lexicon()
    taxonomy = json.loads(
        (Path(__file__).resolve().parents[2] / "data/taxonomy/themes.json").read_text("utf-8")
    )
    per_theme = {t["id"]: 0 for t in taxonomy["themes"]}
    for con in lex.concepts.values():
        for t in con.themes:
            assert t in per_theme, f"{con.id}: unknown theme {t}"
            per_theme[t] += con.kind != "aspect"
    assert min(per_theme.values()) >= 3, per_theme


def test_specific_objects_match_abbreviations_and_nynorsk() -> None:
    from shared.lexicon import load_lexicon, segment_positions

    lex = load_lexicon()

    def concepts(text: str) -> set[str]:
        return lex.match(segment_positions(text))

    assert "alis" in concepts("Kommunen bør tilby flere ALIS-avtaler.")
    assert "lege_utdanning" in concepts("Vi trenger flere LIS1-stillinger.")
    assert "alis" not in concepts("Vi trenger flere LIS1-stillinger.")
    assert "rop" in concepts("ROP-pasientane får ikkje samordna hjelp.")
    assert "barsel" in concepts("Barselomsorga må styrkast med heimebesøk.")
    assert "prosjektfinansiering" in concepts("Tilskotsordninga er mellombels.")


@SCORERS
def test_alis_and_lis1_near_miss_do_not_group(cfg: Config) -> None:
    segs = [
        seg("x1", "Fjordheim kommune", "Flere ALIS-avtaler med fast lønn gjør allmennmedisin attraktivt."),
        seg(
            "x2",
            "Legeforum Vest",
            "Spesialisering i allmennmedisin bør skje i lønnet utdanningsstilling i kommunen.",
        ),
        seg("x3", "Bergli kommune", "Det må opprettes flere LIS1-stillinger i kommunene i distriktet."),
    ]
    groups = {
        frozenset(m.segment_id for m in p.members) for p in group_segments(segs, min_senders=1, config=cfg)
    }
    assert frozenset({"x1", "x2"}) in groups
    assert not any("x3" in g and len(g) > 1 for g in groups)


def test_background_idf_is_blended_into_word_weights() -> None:
    from services.store.points.grouping import Config, background_df

    n, df = background_df()
    assert n > 1000 and df  # built by tools/points/build_idf.py from data/labelled
    common = max(df, key=lambda t: df[t])
    text = f"{common} frisklivssentral"
    w = {}
    for a in (0.0, 1.0):
        g = PointGrouper(Config(scorer="handset", background_idf=a))
        g._ingest([seg("y1", "A", text), seg("y2", "B", "frisklivssentral tannhelse")])
        weights = g.vocab.weights(g.cfg)
        w[a] = weights[g.vocab.ids["t:" + common]] / weights[g.vocab.ids["t:frisklivssentral"]]
    assert w[1.0] < w[0.0]  # a word every letter uses weighs less once the letters' idf is used


def test_evaluate_loads_whole_letters_with_planted_points() -> None:
    from tools.points.evaluate import load_set, pair_scores, planted_precision

    rows = load_set("heldout")
    planted = [r for r in rows if r.point]
    assert planted and all(r.doc and "#" in r.id for r in rows)
    perfect = [[r.id for r in planted if r.point == p] for p in {r.point for r in planted}]
    assert pair_scores(rows, perfect).recall == 1.0
    assert planted_precision(rows, perfect)[0] == 1.0
    assert planted_precision(rows, [[planted[0].id, next(r.id for r in rows if not r.point)]])[0] == 0.0


def test_evaluate_mixes_predicted_labels_and_written_themes() -> None:
    from tools.points.evaluate import Row, mixed_rows

    written = [Row("a", "p1", "measure", ("eldre",), "s1", "tekst"), Row("b", None, "other", (), "s2", "x")]
    predicted = [
        Row("a", "p1", "challenge", ("psykisk",), "s1", "tekst"),
        Row("b", None, "measure", ("akutt",), "s2", "x", latent=True),
    ]
    labels = mixed_rows(written, predicted, "labels")
    assert [(r.label, r.themes, r.latent) for r in labels] == [
        ("challenge", ("eldre",), False),
        ("measure", (), True),
    ]
    themes = mixed_rows(written, predicted, "themes")
    assert [(r.label, r.themes) for r in themes] == [("measure", ("psykisk",)), ("other", ("akutt",))]
    assert mixed_rows(written, predicted, "both") == predicted
    with pytest.raises(ValueError):
        mixed_rows(written, predicted, "neither")


def test_long_paragraph_joins_a_point_made_in_one_of_its_sentences() -> None:
    from services.store.points.grouping import Config

    long_text = (
        "Kommunen har hatt stor tilflytting de siste årene, og mange nye innbyggere er barnefamilier. "
        "Vi trenger én felles journal som fastlegen og hjemmesykepleien kan bruke. "
        "Frivilligsentralen melder om lange ventelister for besøksvenner."
    )
    segs = [
        seg("l1", "Elvebakken kommune", long_text),
        seg(
            "b1",
            "Helse Fjellvik HF",
            "Deling av pasientopplysninger mellom kommune og sykehus må bli enkelt.",
        ),
    ]
    # the two share one concept (shared records) and no word: a sentence link needs sentence_min_shared=1
    one = Config(scorer="handset", sentence_min_shared=1)
    sentence = group_segments(segs, min_senders=2, config=one)
    assert sentence and {m.segment_id for m in sentence[0].members} == {"l1", "b1"}
    # the same pair without sentence matching: the long paragraph's other topics dilute and block it
    assert (
        group_segments(
            segs, min_senders=2, config=Config(scorer="handset", sentences=False, sentence_min_shared=1)
        )
        == []
    )
    # the default asks a sentence pair for three shared features (measured on whole letters: a by-the-way
    # sentence sharing one broad concept linked paragraphs about other things), so this pair stays apart
    assert group_segments(segs, min_senders=2, config=HANDSET) == []


def test_compound_term_does_not_also_count_as_its_parts() -> None:
    from shared.lexicon import load_lexicon, segment_positions

    lex = load_lexicon()
    found = lex.match(segment_positions("Vi trenger flere helsesykepleiere i skolen."))
    assert "helsesykepleier" in found and "sykepleier" not in found
    assert "sykehuskapasitet" not in lex.match(segment_positions("Akuttsengene står tomme."))


def test_joint_labels_group_a_challenge_with_a_measure_on_the_same_object() -> None:
    from services.store.points.grouping import Config

    segs = [
        seg("j1", "A", "Vi trenger én felles journal som fastlegen og hjemmesykepleien kan bruke."),
        seg("j2", "B", "Fastlegen og hjemmesykepleien kan ikke lese den samme journalen.", label="challenge"),
        seg("j3", "C", "Fastlegen og hjemmesykepleien må få én felles pasientjournal."),
    ]
    apart = group_segments(segs, min_senders=1, config=HANDSET)
    assert point_of(apart, "j1").id != point_of(apart, "j2").id
    joint = group_segments(
        segs, min_senders=1, config=Config(scorer="handset", joint_labels=("challenge", "measure"))
    )
    p = point_of(joint, "j2")
    assert {m.segment_id for m in p.members} == {"j1", "j2", "j3"} and p.label == "measure"
    only = PointGrouper(Config(scorer="handset", joint_labels=("challenge", "measure")))
    only.fit(segs)
    assert [
        q.label for q in only.points(min_senders=1, label="challenge")
    ] == []  # the point reads as a measure


def test_learned_scorer_groups_one_point_across_labels() -> None:
    """A sender who words the shared-journal proposal as a problem still makes the same point (round 7)."""
    problem = seg(
        "e1",
        "Bygdelaget helse",
        "Det er et problem at fastlegen og hjemmesykepleien ikke kan bruke én felles journal.",
        label="challenge",
        themes=RECORDS,
    )
    segs = [*JOURNAL, problem, *OTHER]
    g = PointGrouper(Config())
    g.fit(segs)
    p = point_of(g.points(min_senders=1), "e1")
    assert {m.segment_id for m in p.members} >= {"a1", "e1"}
    assert p.label == "measure" and sorted({m.label for m in p.members}) == ["challenge", "measure"]
    assert p.summary in {m.text for m in p.members if m.label == "measure"}  # it reads as a measure
    assert [q.id for q in g.points(min_senders=1, label="challenge") if q.id == p.id] == []
    apart = PointGrouper(Config(joint_labels=()))  # grouped within each label, as before round 7
    apart.fit(segs)
    assert point_of(apart.points(min_senders=1), "e1").id != point_of(apart.points(min_senders=1), "a1").id


def test_latent_label_is_the_likeliest_content_label_of_an_unsure_other() -> None:
    unsure = {"other": 0.6, "challenge": 0.1, "measure": 0.25, "example": 0.05}
    assert latent_label("other", unsure) == "measure"
    assert latent_label("other", {"other": 0.999, "measure": 0.001}) is None  # sure: letter furniture
    assert latent_label("measure", unsure) is None  # content is grouped under its own label
    assert latent_label("other", {}) is None  # no scores (an analyst's label): never latent


def test_a_latent_segment_joins_a_point_of_content_segments_but_never_makes_one() -> None:
    """A proposal the classifier called «other» (unsure) still counts for its point, once segments labelled
    content from two senders make that point; latent segments alone make no point."""
    latent = dataclasses.replace(
        seg(
            "d9",
            "Bygdelaget helse",
            "Fastlegen og sykehuset bør dele én felles pasientjournal.",
            themes=RECORDS,
        ),
        latent=True,
    )
    g = PointGrouper(Config(latent_needs=2))
    g.fit([*JOURNAL, latent, *OTHER])
    p = point_of(g.points(min_senders=2), "a1")
    assert {m.segment_id for m in p.members} == {"a1", "b1", "c1", "d9"} and p.sender_count == 4
    assert g.assignments()["d9"] == p.id

    alone = [dataclasses.replace(s, latent=True) for s in JOURNAL[1:]]
    g = PointGrouper(Config(latent_needs=2))
    g.fit([JOURNAL[0], *alone])
    assert [m.segment_id for p in g.points(min_senders=1) for m in p.members] == ["a1"]
    assert set(g.assignments()) == {"a1"}  # not stored: they join a point when content makes one


def test_sender_recovery_reads_points_as_the_check_does() -> None:
    from tools.points.evaluate import load_set, sender_recovery

    rows = load_set("letters_dev")
    planted = [r for r in rows if r.point]
    assert len({r.doc for r in rows}) >= 20 and len({r.point for r in planted}) >= 8
    names = sorted({str(r.point) for r in planted})
    perfect = [[r.id for r in planted if r.point == p] for p in names]
    assert all(k == n and f == 0 for _p, n, k, f in sender_recovery(rows, perfect))
    # one foreign sender in a point's group makes its sender count wrong
    senders = {r.sender for r in planted if r.point == names[0]}
    first = perfect[0] + [next(r.id for r in rows if not r.point and r.sender not in senders)]
    rec = {p: (n, k, f) for p, n, k, f in sender_recovery(rows, [first, *perfect[1:]])}
    assert rec[names[0]] == (len(senders), len(senders), 1)


def test_test_letters_plant_each_point_once_in_each_of_several_letters() -> None:
    from tools.points.evaluate import load_set

    rows = load_set("letters_test")
    planted = [r for r in rows if r.point]
    by_point: dict[str, set[str]] = {}
    for r in planted:
        by_point.setdefault(str(r.point), set()).add(r.doc)
    assert len(by_point) >= 8 and all(len(docs) >= 4 for docs in by_point.values())
    assert sum(1 for r in planted) == sum(
        len(d) for d in by_point.values()
    )  # one segment per letter per point
    assert len({r.doc for r in rows}) >= 20


def test_evaluate_config_overrides_are_typed_like_the_defaults() -> None:
    import pytest

    from tools.points.evaluate import config_overrides

    got = config_overrides(
        ["threshold=0.3", "sentences=false", "joint_labels=challenge,measure", "max_neighbours=5"]
    )
    assert got == {
        "threshold": 0.3,
        "sentences": False,
        "joint_labels": ("challenge", "measure"),
        "max_neighbours": 5,
    }
    with pytest.raises(SystemExit, match="no field"):
        config_overrides(["no_such_knob=1"])


def test_a_measure_point_is_named_by_a_proposal_in_the_words_its_senders_share() -> None:
    """The summary is a sentence of a measure member that proposes (not the problem it opens with) and that
    uses the point's shared words; the keywords are nouns most senders use."""
    members = [
        seg(
            "p1",
            "Elvebakken kommune",
            "Pasienter med kols og hjertesvikt blir liggende på korridor i akuttmottaket gjennom helgen. "
            "Vi foreslår at sykehuset varsler hjemmetjenesten før utskrivning.",
            themes=("samhandling",),
        ),
        seg(
            "p2",
            "Helse Fjellvik HF",
            "Sykehuset bør varsle hjemmetjenesten dagen før utskrivning.",
            themes=("samhandling",),
        ),
        seg(
            "p3",
            "Strandvik kommune",
            "Kommunen må få beskjed om utskrivning fra sykehuset minst et døgn i forveien.",
            themes=("samhandling",),
        ),
    ]
    g = PointGrouper(HANDSET)
    g.fit(members)
    block = next(iter(g.blocks.values()))
    summary, keywords = g._describe(block, list(range(len(block.segs))), "measure")
    assert summary == "Vi foreslår at sykehuset varsler hjemmetjenesten før utskrivning."
    assert keywords[0] in ("utskrivning", "hjemmetjeneste", "sykehus")
    assert not any(k in keywords for k in ("varsle", "skrive", "foreslå"))


def test_an_excluded_quote_stands_alone_and_stays_out_of_its_point() -> None:
    """An analyst's exclusion (grouping.corrected, Apart): the quote leaves the point that holds a segment it
    was taken away from, even when a regrouping puts it back; unrelated points come back untouched."""
    from services.store.points.grouping import Apart, corrected

    journal = Point("pt-journal", "measure", list(RECORDS), "", [], 3, list(JOURNAL))
    alone = Point("pt-d1", "measure", [], "", [], 1, [OTHER[0]])
    assert corrected([journal, alone], []) == [journal, alone]
    assert corrected([journal, alone], [Apart("x9", frozenset({"a1"}))]) == [journal, alone]  # not grouped
    assert corrected([journal, alone], [Apart("d1", frozenset({"a1"}))]) == [journal, alone]  # not with a1

    apart = [Apart("c1", frozenset({"a1", "b1"}))]
    after = {p.id: p for p in corrected([journal, alone], apart)}
    assert {m.segment_id for m in after["pt-journal"].members} == {"a1", "b1"}
    assert after["pt-journal"].sender_count == 2 and after["pt-journal"].summary
    assert [m.segment_id for m in after[point_id("c1")].members] == ["c1"]
    assert after["pt-d1"] is alone  # untouched points come back as they were, not described again

    # a regrouping from scratch puts it back with the others; the exclusion takes it out again
    regrouped = group_segments(JOURNAL, min_senders=1)
    assert any({"a1", "b1", "c1"} <= {m.segment_id for m in p.members} for p in regrouped)
    again = corrected(regrouped, apart)
    holder = next(p for p in again if any(m.segment_id == "c1" for m in p.members))
    assert [m.segment_id for m in holder.members] == ["c1"]
    assert len({p.id for p in again}) == len(again)  # ids stay unique


def test_merged_points_stay_one_point_until_a_later_exclusion() -> None:
    """An analyst's merge (grouping.corrected, Together): the named quotes move into the point holding most
    of them, which takes the merge's name; other members stay where they are. Corrections apply in the order
    they were made: a quote taken out after a merge leaves, one merged back after it was taken out stays."""
    from services.store.points.grouping import Apart, Together, corrected

    a1, b1, c1 = JOURNAL
    d1, e1 = OTHER
    records = Point("pt-records", "measure", [], "", [], 2, [a1, b1])
    split = Point("pt-split", "measure", [], "", [], 2, [c1, d1])
    alone = Point("pt-e1", "measure", [], "", [], 1, [e1])

    merged = corrected([records, split, alone], [Together("pt-records", frozenset({"a1", "b1", "c1"}))])
    by_id = {p.id: {m.segment_id for m in p.members} for p in merged}
    assert by_id == {"pt-records": {"a1", "b1", "c1"}, "pt-split": {"d1"}, "pt-e1": {"e1"}}
    assert next(p for p in merged if p.id == "pt-records").sender_count == 3

    # already together: nothing changes, the same objects come back
    assert corrected(merged, [Together("pt-records", frozenset({"a1", "b1", "c1"}))]) == merged
    # the merge names the point even when the regrouping gave it another id; a point that held that id
    # before takes a free variant of it
    renamed = [
        Point("pt-new", "measure", [], "", [], 3, [a1, b1, c1]),
        Point("pt-records", "measure", [], "", [], 1, [e1]),
    ]
    ids = {
        p.id: {m.segment_id for m in p.members}
        for p in corrected(renamed, [Together("pt-records", frozenset({"a1", "b1", "c1"}))])
    }
    assert ids == {"pt-records": {"a1", "b1", "c1"}, "pt-records-1": {"e1"}}

    together = Together("pt-records", frozenset({"a1", "b1", "c1"}))
    out = Apart("c1", frozenset({"a1", "b1"}))
    later_out = corrected([records, split, alone], [together, out])
    assert {m.segment_id for m in point_of(later_out, "c1").members} == {"c1"}
    assert {m.segment_id for m in point_of(later_out, "a1").members} == {"a1", "b1"}
    back_in = corrected([records, split, alone], [out, together])
    assert {m.segment_id for m in point_of(back_in, "c1").members} == {"a1", "b1", "c1"}
    # a merged quote that is gone (its letter deleted) is passed over
    assert {m.segment_id for m in point_of(corrected([records], [together]), "a1").members} == {"a1", "b1"}


def test_a_small_collection_is_regrouped_whole_and_a_large_one_after_a_quarters_growth() -> None:
    from services.store.themes.points import FULL_UP_TO, regroup_all

    assert regroup_all(12, 11)  # small: every refresh regroups everything
    assert regroup_all(FULL_UP_TO, FULL_UP_TO - 1)
    assert not regroup_all(FULL_UP_TO + 100, FULL_UP_TO)  # large and grown by 2 %: incremental
    assert regroup_all(5 * FULL_UP_TO, 4 * FULL_UP_TO)  # grown by a quarter
    assert not regroup_all(7, 6, full_up_to=0) and regroup_all(8, 6, full_up_to=0)
