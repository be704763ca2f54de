"""The model input is a text pair: the heading path joined with " > ", then the segment text."""

from __future__ import annotations

from pathlib import Path

from services.classify.schema import heading_text
from tools.training.compact import encode_pairs, train_tokenizer

CORPUS = [
    "Utfordringer > Rekruttering",
    "Det er krevende å rekruttere sykepleiere til kommunene i nord.",
    "Kommunen bør få øremerkede midler til rehabilitering.",
    "Vi har etablert et felles team for utskrivning av eldre pasienter.",
    "Tiltak > Finansiering",
] * 4


def test_heading_text_joins_outermost_first() -> None:
    assert heading_text(["1. Utfordringer", " Rekruttering "]) == "1. Utfordringer > Rekruttering"
    assert heading_text([]) == ""


def test_pair_encoding_puts_heading_first_and_text_second(tmp_path: Path) -> None:
    tok = train_tokenizer(CORPUS, tmp_path, vocab_size=300)
    enc = encode_pairs(tok, ["Utfordringer > Rekruttering"], ["Det er krevende å rekruttere sykepleiere."])
    ids, types = enc["input_ids"][0].tolist(), enc["token_type_ids"][0].tolist()
    sep = ids.index(tok.sep_token_id)
    first, second = tok.decode(ids[1:sep]), tok.decode(ids[sep + 1 : -1])
    assert first.replace(" ", "") == "utfordringer>rekruttering"
    assert second.startswith("det er krevende å")  # lower-cased, æøå kept
    assert set(types[: sep + 1]) == {0} and set(types[sep + 1 :]) == {1}


def test_empty_heading_path_gives_an_empty_first_sequence(tmp_path: Path) -> None:
    tok = train_tokenizer(CORPUS, tmp_path, vocab_size=300)
    ids = encode_pairs(tok, [""], ["Vi har etablert et felles team."])["input_ids"][0].tolist()
    assert ids[:2] == [tok.cls_token_id, tok.sep_token_id]


def test_long_pairs_are_truncated_to_the_limit(tmp_path: Path) -> None:
    tok = train_tokenizer(CORPUS, tmp_path, vocab_size=300)
    enc = encode_pairs(tok, ["Tiltak > Finansiering"], [" ".join(CORPUS * 5)], max_length=64)
    assert enc["input_ids"].shape[1] == 64
    assert tok.decode(enc["input_ids"][0][:6]).startswith("[CLS] tiltak")
