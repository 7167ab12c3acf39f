"""How close to the taps against how real: per-loop hit F1 and the realism AUC of loops chosen to
agree with the tap reader, played by real drummers and by the device's model.

Given each validation loop's taps, the reader gives per step and drum the chance of a hit; a loop's
agreement with it is the expected F1 approximation 2 sum(p h) / (sum(p) + sum(h)). The drummers'
rows are whole train windows (their own velocities and offsets): drawn at random, drawn with weight
exp(agreement / T), and the most agreeing one; what they score is what choosing costs before any
model plays a note. The model's rows are the device model's first variation: without the reader (the
score side from the bank, as its other variations), the best of k such draws by agreement, the
score-side code of the bank row that agrees most, the reader's score at threshold 0.5 and at its
own (shipped)::

    python server/lab/tap2drum_frontier.py --gmd DIR [--models DIR] [--seed 0] [--plot FILE.png]
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np

from beatguide import engine as engine_module
from beatguide import gestures
from beatguide.drums import CLASSES
from beatguide.engine import Engine, Request
from beatguide.evaluate.experiments import run
from beatguide.evaluate.realism import FEATURE_GROUPS, two_sample_auc
from beatguide.evaluate.tap2drum import DEVICE_MODEL, _first_two, _without_reader, per_loop_prf
from beatguide.gmd import load_split
from beatguide.grid import HITS
from beatguide.model_paths import model_dirs
from lab_cli import study_args, study_parser

TEMPERATURES = (0.03, 0.01)  # of the drummers' weighted draws: higher is closer to random
BEST_OF = (2, 4, 8)


def agreement(p: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """(N, R) each of R hit patterns (R, 32, 9) scored against each of N reader readings (N, 32, 9)."""
    P, H = p.reshape(len(p), -1), hits.reshape(len(hits), -1).astype(np.float64)
    return 2 * (P @ H.T) / (P.sum(axis=1, keepdims=True) + H.sum(axis=1)[None])


def weighted_draw(score: np.ndarray, temperature: float, rng) -> np.ndarray:
    """Per row of ``score`` (N, R), one column drawn with weight exp(score / temperature)."""
    w = np.exp((score - score.max(axis=1, keepdims=True)) / temperature)
    cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((cdf < rng.random((len(score), 1))).sum(axis=1), score.shape[1] - 1)


def most_agreeing_row(model, reader):
    """A stand-in for ``engine._bank_candidates``: with taps alone, the one bank row that agrees most
    with the reader (the engine's own rule where a score is given)."""
    own = engine_module._bank_candidates

    def candidates(m, parsed):
        if parsed.cells.any():
            return own(m, parsed)
        p = reader.probabilities(parsed.inputs["groove"]).astype(np.float64)
        return np.array([int(agreement(p, model.bank_hits)[0].argmax())])

    return candidates


def main(argv=None) -> int:
    ap = study_parser("tap2drum_frontier.py", __doc__.split("\n")[0])
    ap.add_argument("--plot", type=Path, help="also draw hit F1 against AUC to this PNG file")
    args = study_args(ap, argv)
    engine = Engine(model_dirs(args.models))
    reader, model = engine.tap_reader, engine.models.get(DEVICE_MODEL)
    if reader is None or model is None or model.bank_hits is None:
        print(f"needs a tap reader and {DEVICE_MODEL} with a bank of scores (python -m beatguide_export.bank)")
        return 2
    val = load_split(args.gmd, "validation", progress=False)
    real, files, seed = val.loops, val.file_index, args.seed
    taps = gestures.groove(real)
    p = reader.probabilities(taps).astype(np.float64)
    rows = []  # (family, short tag for the plot, F1, AUC)

    def add(family, label, tag, loops):
        f1 = per_loop_prf(loops, real)[:, 2].mean()
        auc, sd = two_sample_auc(real, loops, files, files, FEATURE_GROUPS, seed)
        hits = two_sample_auc(real, loops, files, files, ("hits",), seed)[0]
        counts = " / ".join(f"{c:.1f}" for c in (loops[..., HITS] > 0.5).sum(axis=1).mean(axis=0))
        rows.append((family, tag, f1, auc))
        print(f"| {family} | {label} | {f1:.3f} | {auc:.3f} ± {sd:.3f} | {hits:.3f} | {counts} |", flush=True)

    print(f"{len(real)} validation loops' taps; {DEVICE_MODEL}'s first variation (seed {seed})\n")
    print("| played by | chosen | hit F1 | AUC all | AUC hits | hits per loop: " + " / ".join(CLASSES) + " |")
    print("|---|---|---|---|---|---|")
    train = load_split(args.gmd, "train", progress=False).loops
    score = agreement(p, train[..., HITS] > 0.5)
    rng = np.random.default_rng(seed)
    add("drummers (train)", "at random", "random", train[rng.integers(len(train), size=len(real))])
    for t in TEMPERATURES:
        add(
            "drummers (train)", f"drawn, weight exp(agreement / {t:g})", f"T={t:g}", train[weighted_draw(score, t, rng)]
        )
    add("drummers (train)", "the most agreeing window", "most agreeing", train[score.argmax(axis=1)])
    del train, score
    with _without_reader(engine):
        reqs = [Request(DEVICE_MODEL, max(BEST_OF), 1.0, seed + i, groove=t) for i, t in enumerate(taps)]
        draws = np.stack([r.loops for r in run(engine, DEVICE_MODEL, reqs, "tap2drum draws")])
    add("model", "no reader: the score side from the bank (its other variations)", "no reader", draws[:, 0])
    fit = np.stack([agreement(p[i : i + 1], draws[i, :, :, HITS] > 0.5)[0] for i in range(len(p))])
    for k in BEST_OF:
        add(
            "model",
            f"the best of {k} such draws by agreement",
            f"best of {k}",
            draws[np.arange(len(p)), fit[:, :k].argmax(axis=1)],
        )
    with (
        _without_reader(engine),
        mock.patch.object(engine_module, "_bank_candidates", most_agreeing_row(model, reader)),
    ):
        add(
            "model",
            "the score-side code of the most agreeing bank row",
            "bank row",
            _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0],
        )
    with mock.patch.object(reader, "threshold", 0.5):
        add(
            "model",
            "the reader's score, threshold 0.5",
            "reader 0.5",
            _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0],
        )
    add(
        "model",
        f"the reader's score, threshold {reader.threshold:g} (shipped)",
        "shipped",
        _first_two(engine, DEVICE_MODEL, taps, seed)[:, 0],
    )
    if args.plot:
        plot(rows, args.plot)
    return 0


def plot(rows, path: Path) -> None:
    """Hit F1 against AUC, one line per family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for family, marker in (("drummers (train)", "o"), ("model", "s")):
        pts = [(f1, auc, label) for fam, label, f1, auc in rows if fam == family]
        ax.scatter([x for x, _, _ in pts], [y for _, y, _ in pts], marker=marker, label=family)
        for x, y, label in pts:
            ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(right=max(x for _, _, x, _ in rows) + 0.06)
    ax.axvline(0.55, color="grey", ls=":", lw=1)
    ax.set_xlabel("per-loop hit F1 against the drummer (validation)")
    ax.set_ylabel("realism AUC (0.5: indistinguishable)")
    ax.set_title(f"Tap2Drum: close to the taps against real ({DEVICE_MODEL}, first variation)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
