"""ensure-model builds the default model where settings point, leaves a good one alone, rebuilds a
broken one or one built from other data, and never touches a model it did not build."""

from __future__ import annotations

import json
from pathlib import Path

from services.classify.loader import load_classifier
from services.classify.schema import MANIFEST, Item
from shared.settings import Settings
from tools.training.card import CARD_FILE, METRICS_FILE
from tools.training.ensure import ensure_model

LETTER = [
    ([], "Med vennlig hilsen", "other"),
    ([], "Oslo, 3. mars 2023", "other"),
    (["Utfordringer"], "Det er krevende å rekruttere sykepleiere til distriktene.", "challenge"),
    (["Utfordringer"], "Ventetiden i psykisk helsevern for unge er for lang.", "challenge"),
    (["Tiltak"], "Staten bør finansiere flere utdanningsplasser.", "measure"),
    (["Tiltak"], "Kommunen må få øremerkede midler til rehabilitering.", "measure"),
    (["Gode eksempler"], "Vi har etablert et ambulant team som fungerer godt.", "example"),
    (["Gode eksempler"], "Prosjektet har gitt færre reinnleggelser.", "example"),
]


def _write_labelled(folder: Path, n_docs: int = 8) -> None:
    folder.mkdir(parents=True)
    with (folder / "team.jsonl").open("w") as f:
        for d in range(n_docs):
            for seq, (heading, text, label) in enumerate(LETTER):
                f.write(
                    json.dumps(
                        {
                            "doc": f"brev-{d}",
                            "seq": seq,
                            "text": f"{text} ({d})",
                            "heading_path": heading,
                            "label": label,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )


def _workspace(tmp_path: Path) -> tuple[Path, Settings, Path]:
    """Labelled letters, settings whose model lives under tmp_path, and no seed gold."""
    labelled = tmp_path / "labelled"
    _write_labelled(labelled)
    return labelled, Settings(data_dir=tmp_path / "var"), tmp_path / "no-gold.jsonl"


def _add_letter(folder: Path) -> None:
    """A new labelled letter arrives (as after a pull)."""
    row = {"doc": "brev-new", "seq": 0, "text": "Vi foreslår felles legevakt.", "heading_path": ["Tiltak"]}
    with (folder / "team.jsonl").open("a") as f:
        f.write(json.dumps({**row, "label": "measure"}, ensure_ascii=False) + "\n")


def test_ensure_model_builds_keeps_and_repairs(tmp_path: Path) -> None:
    labelled, settings, gold = _workspace(tmp_path)

    path, version, built = ensure_model(settings, labelled=labelled, gold=gold, planted=())
    assert built and path == (tmp_path / "var" / "models" / "default").resolve()
    assert {MANIFEST, CARD_FILE, METRICS_FILE} <= {p.name for p in path.iterdir()}
    card = json.loads((path / METRICS_FILE).read_text())
    assert card["model_version"] == version and card["evaluation"]["held_out"]["n"] > 0
    assert "keywords" in card["baselines"] and card["speed"]["batch_32"] > 0
    clf = load_classifier(path)
    assert (
        clf.predict([Item.of("Staten bør finansiere flere utdanningsplasser.", ["Tiltak"])])[0].label
        == "measure"
    )

    assert ensure_model(settings, labelled=labelled, gold=gold, planted=()) == (path, version, False)

    (path / MANIFEST).write_text("{broken")
    _, again, rebuilt = ensure_model(settings, labelled=labelled, gold=gold, planted=())
    assert rebuilt and again == version  # same data and seed: same model version

    # The model built from the old letters is rebuilt.
    _add_letter(labelled)
    _, newer, rebuilt = ensure_model(settings, labelled=labelled, gold=gold, planted=())
    assert rebuilt and newer != version
    assert json.loads((path / MANIFEST).read_text())["inputs"]
    assert ensure_model(settings, labelled=labelled, gold=gold, planted=()) == (path, newer, False)


def test_ensure_model_leaves_a_model_it_did_not_build_alone(tmp_path: Path) -> None:
    labelled, settings, gold = _workspace(tmp_path)
    path, version, _ = ensure_model(settings, labelled=labelled, gold=gold, planted=())
    # An analyst's own model in the same place: no fingerprint, a card written by another command.
    manifest = json.loads((path / MANIFEST).read_text())
    del manifest["inputs"]
    (path / MANIFEST).write_text(json.dumps(manifest))
    card = json.loads((path / METRICS_FILE).read_text())
    (path / METRICS_FILE).write_text(json.dumps({**card, "command": "python -m tools.training.train bert"}))
    _add_letter(labelled)
    assert ensure_model(settings, labelled=labelled, gold=gold, planted=()) == (path, version, False)
    # The same directory as an older default (its card names ensure-model, no fingerprint): rebuilt.
    (path / METRICS_FILE).write_text(json.dumps(card))
    _, newer, rebuilt = ensure_model(settings, labelled=labelled, gold=gold, planted=())
    assert rebuilt and newer != version


def test_default_recipe_trains_on_the_planted_letters_but_never_the_test_letters() -> None:
    from tools.training.data import PLANTED_LETTERS

    assert len(PLANTED_LETTERS) == 3 and all(p.is_file() for p in PLANTED_LETTERS)
    assert not any("test" in p.name for p in PLANTED_LETTERS)
