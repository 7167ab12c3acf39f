"""MODEL_CARD.md next to each exported model, written from model.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from beatguide import registry
from beatguide.evaluate.report import SOURCE_LABELS

GMD = (
    "Groove MIDI Dataset (Gillick, Roberts, Engel, Tulloch & Bamman, 2019), "
    "https://magenta.tensorflow.org/datasets/groove, licensed CC BY 4.0."
)
LICENSE = (
    "trained by the Beat Guide authors on CC BY 4.0 data; attribution to the Groove MIDI Dataset authors "
    "as above is required when redistributing."
)


def _evaluation(name: str, results: dict) -> list[str]:
    """The card's evaluation section from docs/results.json (written by ``beatguide eval all``)."""
    lines = ["## Evaluation (validation split, `beatguide eval all`, temperature 1)"]
    for source, r in results.get("humanize", {}).get(name, {}).items():
        lines.append(
            f"- Humanize, groove latent from the {SOURCE_LABELS.get(source, source)}: diversity {r['diversity']:.3f}, hit F1 against "
            f"the score {r['hit_f1']:.3f}, offset / velocity Wasserstein to real playing (mean of 9 drums) "
            f"{r['offset_w']:.3f} / {r['velocity_w']:.3f}"
        )
    if name in results.get("exact", {}):
        r = results["exact"][name]
        lines.append(
            f'- Every lane exact ("humanize as drawn"): diversity {r["diversity"]:.3f}, offset / velocity '
            f"Wasserstein {r['offset_w']:.3f} / {r['velocity_w']:.3f}"
        )
    if name in results.get("leak", {}):
        r = results["leak"][name]
        lines.append(
            f"- A played lane set empty gets a hit: {r['model alone'] * 100:.1f} % with the model alone, "
            f"{r['engine'] * 100:.1f} % through the engine"
        )
    for key, text in (("swing", "Swing fidelity, abs(mean - target)"), ("lanes", "Lanes")):
        if name in results.get(key, {}):
            lines.append(f"- {text}: " + ", ".join(f"{k} {v:.3f}" for k, v in results[key][name].items()))
    realism = results.get("realism", {})
    if name in realism:
        r = realism[name]
        met = r.get("goals_met", {})
        lines.append(
            f"- Realism (`beatguide eval realism`): a classifier tells its humanizations from the drummer's at "
            f"ROC AUC {r['auc']:.3f} ± {r['auc_sd']:.3f} over folds"
            + (
                f" ({r['auc_seeds_mean']:.3f} ± {r['auc_seeds_sd']:.3f} over {len(r['auc_seeds'])} humanization seeds)"
                if len(r.get("auc_seeds", ())) > 1
                else ""
            )
            + " (0.5: indistinguishable; real vs real "
            f"{realism.get('real vs real (file halves)', {}).get('auc', float('nan')):.3f}); goals met: "
            + (", ".join(f"{g} {'yes' if ok else 'no'}" for g, ok in met.items()) or "—")
        )
    t2d = {k: v for k, v in results.get("tap2drum", {}).items() if k.startswith(f"{name} (default")}
    if t2d:
        lines.append(
            "- Tap2Drum (`beatguide eval tap2drum`, taps alone), per-loop hit F1: "
            + ", ".join(f"{_t2d_label(k[len(name) + 2 : -1])} {v['f1']:.3f}" for k, v in t2d.items())
        )
    if len(lines) == 1:
        return []
    lines.append(
        f"- Real playing against itself (two halves of the split, by file): offset Wasserstein "
        f"{results.get('real_vs_real_offset_w', float('nan')):.3f}"
    )
    return lines + [""]


def _t2d_label(key: str) -> str:
    """A Tap2Drum row's label in the card: "default, first variation" -> "first variation"."""
    source, variation = key.rsplit(", ", 1)
    return variation + {"default": "", "default, no tap reader": " without the tap reader"}.get(source, f" ({source})")


def _bank_windows(meta: dict) -> str:
    """Whose windows a model's latent bank holds."""
    tuned = meta.get("training", {}).get("finetune")
    if tuned is None:
        return "random training windows"
    if tuned.get("bank") == "base":
        return "of the base model's random training windows (the producer's own codes came no closer to the held-out files)"
    return "of the producer's windows"


def _critic_aucs(critic: dict) -> str:
    """The realism test's AUC on validation for each number of draws the critic selection tried."""
    aucs = critic.get("validation_auc") or {}
    if not aucs:
        return ""
    cells = ", ".join(f"{'one draw' if k == '1' else f'best of {k}'} {v:.3f}" for k, v in aucs.items())
    seeds = critic.get("selection_seeds")
    return f" (realism AUC on validation{f', mean of {seeds} seeds' if seeds else ''}: {cells})"


def _pair(shares) -> str:
    return " / ".join(f"{x:.2f}" for x in shares)


def _kept(rows: list) -> int:
    return max(rows, key=lambda r: r["validation_loglik"])["components"]


def _files(n: int) -> str:
    return f"{n} file{'s' * (n != 1)}"


def _finetune(t: dict) -> list[str]:
    """The training data of a fine-tuned model: its base model, the producer's files as counts (never
    their names) and the before / after numbers on the held-out files."""
    f, before, after = t["finetune"], t["finetune"]["before"], t["finetune"]["after"]
    rows = (
        ("validation loss (nats / loop)", "loss", ".2f"),
        ("hit F1 of humanized loops against the score", "hit_f1", ".3f"),
        ("offset Wasserstein to the held-out playing", "offset_w", ".3f"),
        ("velocity Wasserstein to the held-out playing", "velocity_w", ".3f"),
        ("the same, the window's own groove given: offset", "groove_offset_w", ".3f"),
        ("the same, the window's own groove given: velocity", "groove_velocity_w", ".3f"),
    )
    base_windows = f["base_training"].get("train_windows")
    return [
        f"Fine-tuned from `{f['base']}` (exported {f['base_exported']}, trained on the Groove MIDI Dataset's `train` "
        + (f"split, {base_windows} 2-bar windows: " if base_windows else "split: ")
        + "Gillick, Roberts, Engel, Tulloch & Bamman, 2019, https://magenta.tensorflow.org/datasets/groove, CC BY 4.0) "
        f"on the producer's own drum MIDI, read with the `{f['input_map']}` input map: {_files(f['files'])} used "
        f"({f['skipped_files']} skipped), {f['windows']} 2-bar windows; {t['train_windows']} windows "
        f"({_files(f['train_files'])}) trained on, {t['validation_windows']} windows ({_files(f['validation_files'])}) "
        "held out for validation. The files are not named here.",
        "",
        f"Fine-tuning stopped ({f['stopped']}) after {f['steps']} steps; time limit {f['minutes']:g} min. On the "
        f"held-out windows ({after['windows']} humanized 5 times each, groove latent from each model's default "
        "prior; Wasserstein "
        "distances per drum, averaged with the drums' hit counts as weights):",
        "",
        "| | before (base model) | after (fine-tuned) |",
        "|---|---|---|",
        *[f"| {text} | {before[k]:{fmt}} | {after[k]:{fmt}} |" for text, k, fmt in rows],
    ]


def _head_refit(t: dict) -> list[str]:
    """The card's lines on a value head refitted after training (``beatguide_export.head_refit``) and a
    level head grown on it (``--history``), if any."""
    lines = []
    for key, what, flag in (("head_refit", "Value head refitted with censored velocities", ""),
                            ("level_refit", "Then a level head reading each drum's running velocity residuals "
                                            "in the loop, fitted alone", " --history")):  # fmt: skip
        h = t.get(key)
        if not h:
            continue
        best = min(h["epochs"], key=lambda r: r["val_value_spread"]) if h["epochs"] else {}
        lines.append(
            f"- {what} (`python -m beatguide_export.head_refit{flag}`), the rest of the model as it was: "
            f"{len(h['epochs'])} epochs on the {h['train_windows']} train windows, {h['seconds'] / 60:.1f} min "
            f"on {h['hardware']}, lr {h['lr']}; validation value NLL (censored) "
            f"{h['censored_value_spread_before']:.2f} -> {best.get('val_value_spread', float('nan')):.2f} "
            f"(epoch {best.get('epoch', '?')})"
        )
    return lines


def write_card(folder: Path, meta: dict, results: dict | None = None) -> Path:
    """MODEL_CARD.md from model.json and, when given, the evaluation summary (docs/results.json)."""
    kind = registry.kind(meta["kind"])
    t = meta.get("training", {})
    val = t.get("validation", {})
    latents = ", ".join(
        f"{lat['name']} {lat['dim']}" + (f" x {lat['groups']}" if lat["groups"] > 1 else "") for lat in meta["latents"]
    )
    free = ", ".join(f"{k} {v:g}" for k, v in meta["config"].get("free_bits", {}).items())
    lines = [
        f"# Model card: {meta['name']}",
        "",
        kind.description,
        "",
        "## Architecture",
        f"- Parameters: {meta['parameters']:,}",
        f"- Latents: {latents} (total {meta['z_size']}); free bits per latent: {free}",
        f"- Encoder hidden {meta['config']['enc_hidden']} (LSTM) / {meta['config']['mlp_hidden']} (MLP); "
        f"decoder LSTM {meta['config']['dec_layers']} x {meta['config']['dec_hidden']}; max beta "
        f"{meta['config']['max_beta']}; prior dropout {meta['config']['prior_dropout']}; previous-step dropout "
        f"{meta['config'].get('prev_dropout', 0)}; lanes forced in training {meta['config'].get('force_lanes', 0)}; "
        f"loops decoded with another loop's groove code (hits scored only) {meta['config'].get('swap_groove', 0)}; "
        f"loops with one played drum deleted from score and target {meta['config'].get('delete_lane', 0)}; "
        f"decoder reads the auxiliary readings: {'yes' if meta['config'].get('aux_controls', True) and kind.aux else 'no'}"
        + (
            "; auxiliary decoders that read without shaping their latent: " + ", ".join(meta["config"]["aux_detach"])
            if meta["config"].get("aux_detach")
            else ""
        )
        + (
            f"; lane networks {meta['config'].get('lane_hidden', 64)} wide"
            + (", shared by the nine lanes" if meta["config"].get("lanes_shared") else "")
            if kind.encoders == "mlp"
            else ""
        ),
        "- Takes: "
        + ", ".join(meta.get("capabilities", {}).get("gestures", []))
        + "; lane modes "
        + ", ".join(meta.get("capabilities", {}).get("lane_modes", []))
        + "; latent sources "
        + ", ".join(meta.get("capabilities", {}).get("latent_sources", [])),
        f"- ONNX opset {meta['opset']}, exported {meta['exported']} with torch {meta['torch']}. Files: "
        + ", ".join(f"`{f}`" for f in meta["files"].values()),
        "- Decoder inputs: `z` (batch, z), `uniforms` (batch, 32, 9) — a hit is drawn where "
        "uniform < sigmoid(logit / temperature), so sampling is reproducible from a seed"
        + (
            "; (batch, 32, 27) with drawn values: the last 18 per step draw each velocity and offset from its "
            "logistic distribution, the spread scaled by the temperature"
            + (
                " (velocities censored at 127: the head refitted by `python -m beatguide_export.head_refit` so a "
                "velocity at the top is drawn there as often as drummers play it)"
                if meta["config"].get("censored")
                else ""
            )
            + (
                "; a level head corrects each velocity's distribution by the drum's running residual so far in "
                "the loop, so a drum keeps its level through the loop, inside the graph"
                if meta["config"].get("history")
                else ""
            )
            if meta["config"].get("values") == "logistic"
            else ""
        )
        + " — `temperature` (1), "
        "`hit_control` (batch, 32, 9): -1 sample, 0 force silence, 1 force a hit (lane modes empty / exact).",
        *(
            [
                f"- `{meta['bank']}`: posterior means of {meta.get('bank_rows', 'N')} {_bank_windows(meta)} and what "
                "they play, the bank of real codes the engine draws missing latents from by default "
                "(`latent_source=bank`), among the windows whose steps, cymbals and toms are most like the input's."
            ]
            if meta.get("bank")
            else []
        ),
        *(
            [
                "- Feel (`beatguide.feel`, fitted on the training split by `python -m beatguide_export.feel_fit "
                "--write`): shares of each velocity / offset draw's variance common to the loop "
                f"{_pair(meta['feel']['loop'])}, to one drum in the loop {_pair(meta['feel']['drum'])}, to one "
                f"drum's step in both bars {_pair(meta['feel']['bar'])}; the rest is each note's own"
                + (
                    f", its scale drawn per (loop, drum) with scatter {_pair(meta['feel']['scatter'])} "
                    "(some loops tighter than others, as a drummer's)"
                    + (
                        f", {_pair(meta['feel']['tightness'])} of that scale's draw common to the whole loop "
                        "(a loop played tight or loose as a whole)."
                        if any(meta["feel"].get("tightness", ()))
                        else "."
                    )
                    if any(meta["feel"].get("scatter", ()))
                    else "."
                )
            ]
            if meta.get("feel")
            else []
        ),
        *(
            [
                f"- `{meta['levels']}`: per drum and latent source, a quantile map of the velocities played with a "
                "drawn groove onto the training drummers' (`beatguide.levels`, fitted on the training split and "
                "kept on validation by `python -m beatguide_export.levels_fit --write`): a code not the drummer's "
                "own plays the accented drums quieter and reaches 127 less often. Applied where the groove is drawn."
            ]
            if meta.get("levels")
            else []
        ),
        *(
            [
                f"- `{meta['files']['critic']}`: the critic (`beatguide.critic`, trained by `python -m "
                "beatguide_export.critic --write`), a small convolutional network that tells the training "
                f"drummers' loops from this model's own ({meta['critic'].get('train_windows', 'the')} train windows, "
                f"{meta['critic'].get('draws', 'some')} humanizations each; ROC AUC "
                f"{meta['critic'].get('held_out_auc', float('nan')):.3f} on held-out train files). The engine draws "
                f"each request {meta['critic']['candidates']} times and keeps the draw that plays most like a "
                "drummer; the number kept on validation, where it tells least from real playing"
                + _critic_aucs(meta["critic"])
                + "."
            ]
            if meta.get("critic")
            else []
        ),
        *(
            [
                f"- `{meta['prior']}`: the fitted prior, a Gaussian mixture of {_kept(meta['prior_fit'])} components over "
                + ("the base model's" if "finetune" in meta.get("training", {}) else "the")
                + " training windows' codes (the number chosen by the validation codes' log-likelihood among "
                + ", ".join(str(r["components"]) for r in meta["prior_fit"])
                + ("; its means and weights then adapted to the producer's codes" if meta.get("prior_adapted") else "")
                + "); missing latents are drawn from it, "
                "conditioned on the given gestures' codes, with `latent_source=fitted` (the default without a bank)."
            ]
            if meta.get("prior")
            else []
        ),
        "- Phrases and amounts: besides 2-bar loops, the engine plays 4- and 8-bar phrases of this model's 2-bar "
        "windows (groove latents held, score latents moved by a step fitted on the train split, fills from a bank "
        "of real drummers' fill bars) and scales what it plays by Groove-Pool-style Timing and Velocity amounts "
        "(0-150 %; 2 bars at 100 % is the model's output as it is): docs/phrases.md, `beatguide eval phrases`.",
        "",
        "## Training data",
        *(
            _finetune(t)
            if "finetune" in t
            else [
                f"{GMD} Trained on the `train` split ({t.get('train_windows', '?')} 2-bar windows), selected on `validation` "
                f"({t.get('validation_windows', '?')} windows); the test split was not used."
            ]
        ),
        "",
        "## Training run",
        f"- Wall time {t.get('train_seconds', 0) / 60:.1f} min on {t.get('hardware', '?')}; "
        f"{t.get('epochs_run', '?')} epochs, best epoch {t.get('best_epoch', '?')}, batch {t.get('batch_size', '?')}, "
        f"lr {t.get('lr', '?')}, seed {t.get('seed', '?')}",
        "- Validation (posterior mean, per loop): "
        + ", ".join(f"{k} {v:.2f}" for k, v in val.items() if not k.startswith("kl_")),
        "- KL per latent (nats): " + ", ".join(f"{k[3:]} {v:.1f}" for k, v in val.items() if k.startswith("kl_")),
        f"- Humanize check at the end of training, {t.get('windows', '?')} validation windows, 5 samples each: "
        f"hit F1 against the input score {t.get('humanize_hit_f1', float('nan')):.3f}; std of the offsets over "
        f"the samples, averaged over all 288 cells {t.get('humanize_offset_spread', float('nan')):.3f}",
        *_head_refit(t),
        *(
            []
            if "finetune" in t
            else [
                "- The full validation evaluation of the shipped ONNX model (the paper's Table 1, Table 2, Figure 3, "
                "realism, auxiliary readings, lane following) is in `docs/results.md` (`beatguide eval all`)."
            ]
        ),
        "",
        *_evaluation(meta["name"], results or {}),
        "## Files",
        *[f"- `{f}` sha256 `{h}`" for f, h in meta["sha256"].items()],
        "",
        "## License",
        ("Fine-tuned from weights " if "finetune" in t else "Weights ") + LICENSE,
        "",
    ]
    path = Path(folder) / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path


def main(argv=None) -> int:
    """Rewrite the model cards of exported model folders, e.g. after a new evaluation."""
    ap = argparse.ArgumentParser(prog="python -m beatguide_export.model_card", description=main.__doc__)
    ap.add_argument("folders", nargs="+", type=Path, help="exported model folders")
    ap.add_argument("--results", type=Path, help="evaluation summary (docs/results.json)")
    args = ap.parse_args(argv)
    results = json.loads(args.results.read_text()) if args.results else None
    for folder in args.folders:
        print(write_card(folder, json.loads((folder / "model.json").read_text()), results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
