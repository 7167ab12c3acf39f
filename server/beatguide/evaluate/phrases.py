"""``beatguide eval phrases``: generated 4- and 8-bar phrases against real ones, and the repeated loop.

Each real phrase-aligned window of the split gives its first two bars' score; a model humanizes it
as a phrase (``beatguide.phrases``, fill auto) and as its 2-bar loop played over and over (the
naive baseline; its first window is the phrase's). Measures, each generated vs real:

- bar-to-bar change: between each 2-bar half and the next, the hits' Jaccard distance and the mean
  absolute offset change of the hits both halves play, as per-phrase distributions (Wasserstein);
- fills (``beatguide.fills.fill_bars``): the share of phrases holding one, and where they fall
  (the share of phrases with a fill on each bar; the distance is the sum of the absolute gaps);
- a classifier two-sample test (4-bar phrases): scikit-learn's HistGradientBoostingClassifier on
  per-bar features, GroupKFold by source file, ROC AUC (0.5: it cannot tell them apart).
"""

from __future__ import annotations

import numpy as np

from .. import gestures
from ..engine import Engine, Request
from ..fills import BAR_STEPS, bar_hits, fill_bars, half_changes, phrase_windows
from ..grid import HITS, OFFSETS, VELOCITIES
from ..phrases import Phrase, generate
from . import metrics

FOLDS = 5
KINDS = ("phrase", "repeated loop")


def features(loops: np.ndarray) -> np.ndarray:
    """(N, F) per-bar features of phrases: hits per drum, mean velocity, mean and spread of offsets,
    fill flag; then the half-to-half changes."""
    hits = bar_hits(loops)
    bars = loops.reshape(len(loops), -1, BAR_STEPS, loops.shape[-1])
    count = np.maximum(hits.sum(axis=(2, 3)), 1)
    vel = np.where(hits, bars[..., VELOCITIES], 0).sum(axis=(2, 3)) / count
    off = np.where(hits, bars[..., OFFSETS], 0)
    off_mean = off.sum(axis=(2, 3)) / count
    off_sd = np.sqrt(np.where(hits, (bars[..., OFFSETS] - off_mean[..., None, None]) ** 2, 0).sum(axis=(2, 3)) / count)
    per_bar = [hits.sum(axis=2).reshape(len(loops), -1), vel, off_mean, off_sd, fill_bars(loops)]
    ch = half_changes(loops)
    return np.concatenate([*per_bar, ch["hits"][:, None], np.nan_to_num(ch["offsets"])[:, None]], axis=1)


def two_sample_auc(real: np.ndarray, fake: np.ndarray, groups: np.ndarray, seed: int = 0) -> float:
    """ROC AUC of a classifier telling ``fake`` phrases from ``real`` ones (both (N, steps, 27), row i
    from source file ``groups[i]``), out of fold over GroupKFold by file."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    folds = min(FOLDS, len(np.unique(groups)))
    if folds < 2:
        return float("nan")
    x = np.concatenate([features(real), features(fake)])
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    g = np.r_[groups, groups]
    score = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, g):
        clf = HistGradientBoostingClassifier(max_iter=200, random_state=seed).fit(x[train], y[train])
        score[test] = clf.predict_proba(x[test])[:, 1]
    return float(roc_auc_score(y, score))


def generated(engine: Engine, model: str, real: np.ndarray, bars: int, seed: int) -> dict:
    """{kind: (N, bars * 16, 27)}: each real phrase's first two bars humanized as a phrase (fill auto)
    and as the 2-bar loop repeated."""
    out = {k: [] for k in KINDS}
    for i, loop in enumerate(real):
        req = Request(model, 1, 1.0, seed + i, score=gestures.score(loop[:32]))
        phrase = generate(engine, req, Phrase(bars, "auto")).loops[0]
        out["phrase"].append(phrase)
        out["repeated loop"].append(np.tile(phrase[:32], (bars // 2, 1)))
    return {k: np.stack(v) for k, v in out.items()}


def compare(real: np.ndarray, fake: np.ndarray, groups: np.ndarray, seed: int, classify: bool) -> dict:
    """Every measure of ``fake`` phrases against ``real`` ones: values and distances."""
    rc, fc = half_changes(real), half_changes(fake)
    rf, ff = fill_bars(real), fill_bars(fake)
    out = {}
    for key in ("hits", "offsets"):
        r, f = rc[key][np.isfinite(rc[key])], fc[key][np.isfinite(fc[key])]
        out[f"change {key}"] = (float(f.mean()), float(r.mean()), metrics.wasserstein(f, r))
    rate_r, rate_f = rf.any(axis=1).mean(), ff.any(axis=1).mean()
    out["fill rate"] = (float(rate_f), float(rate_r), float(abs(rate_f - rate_r)))
    by_bar_r, by_bar_f = rf.mean(axis=0), ff.mean(axis=0)
    out["fills by bar"] = (by_bar_f.tolist(), by_bar_r.tolist(), float(np.abs(by_bar_f - by_bar_r).sum()))
    if classify:
        auc = two_sample_auc(real, fake, groups, seed)
        out["classifier AUC"] = (auc, 0.5, abs(auc - 0.5))
    return out


def run(engine: Engine, windows, models, bars_list=(4, 8), seed: int = 0, limit: int = 0) -> dict:
    """{bars: {"n", "files", model: {kind: compare(...)}}} on the split's phrase-aligned windows."""
    out = {}
    for bars in bars_list:
        real, files, _ = phrase_windows(windows, bars, align=bars)
        if limit:
            real, files = real[:limit], files[:limit]
        res = {"n": len(real), "files": len(np.unique(files))}
        out[bars] = res
        if not len(real):
            continue
        for model in models:
            gen = generated(engine, model, real, bars, seed)
            res[model] = {k: compare(real, gen[k], files, seed, classify=bars == 4) for k in KINDS}
    return out


def real_playing(windows, bars_list=(4, 8)) -> list[dict]:
    """How real phrases of a split repeat and end, for windows on every bar and phrase-aligned ones:
    per row, bars, alignment, count, mean half-to-half hit / offset / velocity change, the change of
    the mean velocity level, and the share of phrases with a fill on each bar."""
    rows = []
    for bars in bars_list:
        for align in (1, bars):
            loops, files, _ = phrase_windows(windows, bars, align)
            if not len(loops):
                continue
            ch = half_changes(loops)
            halves = loops.reshape(len(loops), bars // 2, 32, -1)
            hits = halves[..., HITS] > 0.5
            both = hits[:, :-1] & hits[:, 1:]
            dv = np.abs(halves[:, :-1][..., VELOCITIES] - halves[:, 1:][..., VELOCITIES])
            level = np.where(hits, halves[..., VELOCITIES], 0).sum(axis=(2, 3)) / np.maximum(hits.sum(axis=(2, 3)), 1)
            rows.append(
                {
                    "bars": bars,
                    "aligned": align == bars,
                    "phrases": len(loops),
                    "files": len(np.unique(files)),
                    "hits": float(ch["hits"].mean()),
                    "offsets": float(np.nanmean(ch["offsets"])),
                    "velocities": float(np.where(both, dv, 0).sum() / max(both.sum(), 1)),
                    "level": float(np.abs(np.diff(level, axis=1)).mean()),
                    "fills": fill_bars(loops).mean(axis=0).tolist(),
                }
            )
    return rows


def _num(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3f}"


def _pct(values) -> str:
    return " / ".join(f"{v * 100:.1f}" for v in values)


def real_table(rows: list[dict]) -> list[str]:
    """:func:`real_playing`'s rows as a markdown table, with what its columns mean."""
    lines = [
        "Change from each 2-bar half to the next: hits (Jaccard distance), offsets and velocities (mean "
        "absolute change of the hits both halves play, half-steps / velocity / 127), the mean velocity level; "
        "fills (`beatguide.fills.fill_bars`): % of phrases with a fill on each bar.",
        "",
        "| bars | windows | phrases (files) | hits | offsets | velocities | level | fills by bar, % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['bars']} | {'phrase-aligned' if r['aligned'] else 'every bar'} | {r['phrases']} ({r['files']}) "
            f"| {r['hits']:.3f} | {r['offsets']:.3f} | {r['velocities']:.3f} | {r['level']:.3f} | {_pct(r['fills'])} |"
        )
    return lines


def report(split: str, real_rows: list[dict], results: dict, seconds: float) -> str:
    """The markdown report of ``beatguide eval phrases``."""
    lines = [
        f"# Phrases: generated vs real ({split} split)",
        "",
        f"`beatguide eval phrases --out DIR` ({seconds:.0f} s). Method and reading: docs/phrases.md.",
        "",
        "## Real playing",
        "",
        *real_table(real_rows),
    ]
    for bars, res in results.items():
        if not res["n"]:
            lines += ["", f"## {bars}-bar phrases: no phrase-aligned {bars}-bar windows in the split"]
            continue
        lines += [
            "",
            f"## {bars}-bar phrases: generated vs real",
            "",
            f"{res['n']} phrase-aligned real windows from {res['files']} files; each one's first two bars' score "
            "humanized once (fitted prior, fill auto). Each cell: generated value (real value), distance; "
            "**bold**: the closer of phrase and repeated loop.",
            "",
        ]
        models = {m: kinds for m, kinds in res.items() if m not in ("n", "files")}
        measures = list(next(iter(models.values()))["phrase"])
        lines += ["| model | kind | " + " | ".join(measures) + " |", "|---|---|" + "---|" * len(measures)]
        for model, kinds in models.items():
            for kind, m in kinds.items():
                cells = []
                for key in measures:
                    value, real, dist = m[key]
                    other = kinds[KINDS[1 - KINDS.index(kind)]][key][2]
                    shown = _pct(value) + f" ({_pct(real)})" if isinstance(value, list) else f"{value:.3f} ({real:.3f})"
                    d = _num(dist)
                    cells.append(f"{shown}, {'**' + d + '**' if dist < other else d}")
                lines.append(f"| {model} | {kind} | " + " | ".join(cells) + " |")
    if results.get(4, {}).get("n"):
        verdict = ", ".join(f"{m} {'yes' if ok else 'no'}" for m, ok in closer_everywhere(results).items())
        lines += ["", f"4-bar phrase closer to real playing than the repeated loop on every measure: {verdict}."]
    return "\n".join(lines) + "\n"


def closer_everywhere(results: dict, bars: int = 4) -> dict:
    """{model: whether the phrase is closer to real playing than the repeated loop on every measure}."""
    res = results[bars]
    return {
        model: all(kinds["phrase"][k][2] < kinds["repeated loop"][k][2] for k in kinds["phrase"])
        for model, kinds in res.items()
        if model not in ("n", "files")
    }
