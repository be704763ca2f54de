"""Model card writer: ``metrics.json`` (machine-readable) and ``MODEL_CARD.md`` (for people) in the
model directory, both from one dict so they never disagree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.events import LABELS

CARD_FILE = "MODEL_CARD.md"
METRICS_FILE = "metrics.json"


def _metrics_table(name: str, m: dict[str, Any]) -> list[str]:
    extra = ""
    if "macro_f1_interval_90" in m:
        low, high = m["macro_f1_interval_90"]
        extra += f" (90 % bootstrap interval {low:.3f}-{high:.3f})"
    extra += f", accuracy {m['accuracy']:.3f}"
    if "calibration_error" in m:
        extra += f", calibration error of the top score (ECE, 10 bins) {m['calibration_error']:.3f}"
    lines = [
        f"**{name}** (n={m['n']}): macro-F1 **{m['macro_f1']:.3f}**{extra}",
        "",
        "| label | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label in LABELS:
        c = m["per_class"][label]
        lines.append(
            f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |"
        )
    lines += [
        "",
        "Confusion (rows: true label, columns: predicted):",
        "",
        "| true \\ pred | " + " | ".join(LABELS) + " |",
        "| --- |" + " --- |" * len(LABELS),
    ]
    for label, row in zip(LABELS, m["confusion"]["matrix"], strict=True):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    return lines + [""]


def render(card: dict[str, Any]) -> str:
    """Markdown for a card dict (the same dict goes to metrics.json)."""
    out = [
        f"# Model card: {card['model_version']}",
        "",
        f"- kind: `{card['kind']}`",
        f"- base: `{card.get('base') or '-'}`",
        f"- created: {card.get('created', '-')}",
        "",
    ]
    data = card.get("data", {})
    out += [
        "## Data",
        "",
        f"- training data: `{data.get('source', 'data/labelled/*.jsonl')}`, hash `{data.get('hash', '-')}`",
        f"- split: by document, {data.get('test_fraction', '-')} of documents held out, seed {data.get('split_seed', '-')}",
        f"- train: {data.get('n_train', '-')} segments in {data.get('docs_train', '-')} documents {data.get('train_labels', '')}",
        f"- held out: {data.get('n_held', '-')} segments in {data.get('docs_held', '-')} documents {data.get('held_labels', '')}",
        f"- gold: `../shared/seeds/gold.jsonl` ({data.get('n_gold', 'absent')} segments; evaluation only, never trained on)",
        "",
    ]
    out += [
        "## Recipe",
        "",
        "```",
        json.dumps(card.get("recipe", {}), indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    if card.get("command"):
        out += [f"Command: `{card['command']}`", ""]
    out += ["## Scores", ""]
    for split, title in (("held_out", "Team held-out split"), ("gold", "Seed gold set")):
        m = card.get("evaluation", {}).get(split)
        out += _metrics_table(title, m) if m else [f"**{title}**: not measured (data absent).", ""]
    for split, title in (("held_out_themes", "Team held-out split"), ("gold_themes", "Seed gold themes")):
        t = card.get("evaluation", {}).get(split)
        if t:
            per = ", ".join(f"{k} {v['f1']:.2f} (n={v['support']})" for k, v in t["per_theme"].items())
            out += [
                f"**Themes, {title}** (text level): micro-F1 **{t['micro_f1']:.3f}**, macro-F1 "
                f"**{t['macro_f1']:.3f}**; per theme: {per}",
                "",
            ]
    for extra in data.get("extra_labelled") or []:
        out += [
            f"- extra labelled file (training only): `{extra['file']}`, {extra['segments']} segments, hash `{extra['hash']}`"
        ]
    for extra in data.get("labels_only") or []:
        out += [
            f"- labelled file for the label model only (training only, themes not used): `{extra['file']}`, "
            f"{extra['segments']} segments, hash `{extra['hash']}`"
        ]
    if data.get("extra_labelled") or data.get("labels_only"):
        out.append("")
    e2e = card.get("end_to_end") or {}
    if e2e:
        out += [
            "## End to end (`python -m tools.eval.end_to_end --card`)",
            "",
            "Letters rendered to PDF, extracted by the extract engine, classified in letter order; a gold "
            "segment extraction lost counts as wrong.",
            "",
            "| set | letters | recovered | macro-F1 | F1 challenge / measure / example / other | ECE | "
            "flagged / wrong caught | themes micro / macro |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, f in e2e.items():
            o, cal, th = f["overall"], f["calibration"], f["themes"]
            per = " / ".join(f"{v['f1']:.2f}" for v in o["per_class"].values())
            out.append(
                f"| {name} | {len(f['letters'])} | {o['recovered']:.3f} | **{o['macro_f1']:.3f}** | {per} | "
                f"{cal.get('ece')} | {cal.get('flagged_share')} / {cal.get('wrong_caught')} | "
                + (f"{th['micro_f1']:.3f} / {th['macro_f1']:.3f} |" if th else "no gold themes |")
            )
        out.append("")
        for name, f in e2e.items():
            out.append(
                f"- {name}, per letter: "
                + ", ".join(f"{d} {v['macro_f1']:.3f}" for d, v in f["letters"].items())
            )
            out.append(
                f"- {name}, confusion (rows gold, columns + lost): {f['overall']['confusion']['matrix']}"
            )
            if f.get("themes"):  # a set without gold themes (heldout_m) has none to report
                out.append(
                    f"- {name}, theme F1: "
                    + ", ".join(f"{t} {v['f1']:.2f}" for t, v in f["themes"]["per_theme"].items())
                )
        out.append("")
    baselines = card.get("baselines") or {}
    if baselines:
        out += [
            "## Baselines on the same splits",
            "",
            "| model | held-out macro-F1 | gold macro-F1 | gold F1 per label |",
            "| --- | --- | --- | --- |",
        ]
        for name, b in baselines.items():
            held, gold = b.get("held_out"), b.get("gold")
            per = ", ".join(f"{k} {v['f1']:.2f}" for k, v in gold["per_class"].items()) if gold else "-"
            held_f1 = f"{held['macro_f1']:.3f}" if held else "-"
            gold_f1 = f"{gold['macro_f1']:.3f}" if gold else "-"
            out.append(f"| {name} | {held_f1} | {gold_f1} | {per} |")
        out.append("")
    if card.get("notes"):
        out += ["## Notes", "", *card["notes"], ""]
    speed = card.get("speed") or {}
    if speed:
        where = (
            f"Measured on {speed.get('machine', 'this machine')} with {speed.get('threads') or 1} "
            f"thread(s), runtime `{speed.get('runtime', '-')}`, length-bucketed batches of real segments:"
        )
        out += ["## Inference speed", "", where, ""]
        for key, value in speed.items():
            if key.startswith("batch_"):
                out.append(f"- {key.replace('_', ' ')}: {value:.0f} segments/second")
        out.append("")
    return "\n".join(out)


def write_card(model_dir: Path, card: dict[str, Any]) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / METRICS_FILE).write_text(
        json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (model_dir / CARD_FILE).write_text(render(card), encoding="utf-8")


def read_card(model_dir: Path) -> dict[str, Any] | None:
    path = model_dir / METRICS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
