"""Does it pass for a drummer? A classifier two-sample test and a table of a loop's structure.

The test: per-loop features (below) of real loops and of the same scores humanized by a model; a
gradient-boosted classifier (scikit-learn's HistGradientBoostingClassifier) learns to tell them
apart, cross-validated with folds grouped by source file (a performance is never seen in training
and in test); ROC AUC per fold, reported as mean and standard deviation over the folds. 0.5: the
classifier cannot tell them apart; 1.0: it always can. Feature groups (hits, velocities, offsets)
show where a difference lies.

The structure table: per drum, the spread of velocity and offset within one loop and between loops,
a loop's overall level, bar-to-bar repeat and crashes: the numbers a producer hears as feel.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..drums import CLASSES, N_CLASSES
from ..feel import Feel
from ..grid import HITS, OFFSETS, STEPS, VELOCITIES
from ..levels import Levels
from ..registry import KINDS

FOLDS = 5
CRASH = CLASSES.index("crash")
MANY_CRASHES = 4  # loops with at least this many crashes: a drummer hits them all full
GOAL_DRUMS = ("kick", "snare", "closed_hihat", "ride")  # per-drum within-loop velocity SD goals
SEEDS = 3  # humanizations per model for the AUC goal: one seed's AUC moves about 0.005 with its draws


@contextmanager
def _swapped(engine, model: str, attr: str, value):
    m = engine.models[model]
    kept = getattr(m, attr)
    setattr(m, attr, value)
    try:
        yield engine
    finally:
        setattr(m, attr, kept)


def feel(engine, model: str, f: Feel):
    """The engine with ``model`` drawing values with feel ``f`` for the duration (a context manager)."""
    return _swapped(engine, model, "feel", f)


def levels(engine, model: str, lv: Levels):
    """The engine with ``model`` playing drawn grooves at levels ``lv`` for the duration (a context manager)."""
    return _swapped(engine, model, "levels", lv)


def critic(engine, model: str, c):
    """The engine with ``model`` choosing among its draws with critic ``c`` (``beatguide.critic.Critic``;
    None: one draw) for the duration (a context manager)."""
    return _swapped(engine, model, "critic", c)


def _masked(values: np.ndarray, hits: np.ndarray, axis, min_count: int = 1):
    """Mean and standard deviation of ``values`` where ``hits``, along ``axis``; NaN where fewer than
    ``min_count`` hits."""
    count = hits.sum(axis=axis)
    safe = np.maximum(count, 1)
    mean = np.where(hits, values, 0).sum(axis=axis) / safe
    var = np.where(hits, (values - np.expand_dims(mean, axis)) ** 2, 0).sum(axis=axis) / safe
    ok = count >= min_count
    return np.where(ok, mean, np.nan), np.where(count >= max(min_count, 2), np.sqrt(var), np.nan)


def _bar_repeat(values: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """Per loop: mean |value in bar 1 - value in bar 2| over (step, drum) cells played in both bars
    (NaN where none is)."""
    half = STEPS // 2
    both = hits[:, :half] & hits[:, half:]
    diff = np.abs(values[:, :half] - values[:, half:])
    n = both.sum(axis=(1, 2))
    return np.where(n > 0, np.where(both, diff, 0).sum(axis=(1, 2)) / np.maximum(n, 1), np.nan)


def within_sd(loops: np.ndarray, kind: str) -> np.ndarray:
    """(N, 9): each drum's SD of velocity or offset (``kind``) inside each loop; NaN where it plays
    fewer than two hits."""
    x = np.asarray(loops, np.float64).reshape(-1, STEPS, 3 * N_CLASSES)
    cols = VELOCITIES if kind == "velocity" else OFFSETS
    return _masked(x[:, :, cols], x[:, :, HITS] > 0.5, 1, min_count=2)[1]


def spread_correlations(loops: np.ndarray, kind: str, min_loops: int = 100) -> dict:
    """{(drum a, drum b): (r, loops)}: the correlation across ``loops`` of the two drums' within-loop
    SD of ``kind`` ("velocity" or "offset"), over the loops where both play twice or more; pairs with
    fewer than ``min_loops`` such loops are left out. A drummer plays a loop tight or loose as a whole."""
    sd = within_sd(loops, kind)
    out = {}
    for a in range(N_CLASSES):
        for b in range(a + 1, N_CLASSES):
            both = np.isfinite(sd[:, a]) & np.isfinite(sd[:, b])
            if both.sum() >= max(min_loops, 3):
                out[(CLASSES[a], CLASSES[b])] = (float(np.corrcoef(sd[both, a], sd[both, b])[0, 1]), int(both.sum()))
    return out


def tightness(loops: np.ndarray, kind: str, min_loops: int = 100) -> float:
    """The mean over drum pairs of :func:`spread_correlations` (NaN where no pair has ``min_loops``)."""
    corr = spread_correlations(loops, kind, min_loops)
    return float(np.mean([r for r, _ in corr.values()])) if corr else float("nan")


FEATURE_GROUPS = ("hits", "velocity", "offset")


def features(loops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-loop features (N, F) and each feature's group (F,), one of FEATURE_GROUPS. Per drum: hit
    count; velocity mean, SD, max; offset mean, SD. Per loop: velocity mean, SD and share at full
    velocity; offset mean and SD; velocity on quarter notes minus elsewhere; mean offset of 8th and
    16th off-beats; bar-to-bar repeat of velocities and offsets. NaN where a drum does not play."""
    x = np.asarray(loops, np.float64).reshape(-1, STEPS, 3 * N_CLASSES)
    hits = x[:, :, HITS] > 0.5
    vel, off = x[:, :, VELOCITIES], x[:, :, OFFSETS]
    cols, groups = [], []

    def add(values, group):
        cols.append(np.asarray(values, np.float64).reshape(len(x), -1))
        groups.extend([group] * cols[-1].shape[1])

    add(hits.sum(axis=1), "hits")
    v_mean, v_sd = _masked(vel, hits, 1)
    add(v_mean, "velocity")
    add(v_sd, "velocity")
    add(np.where(hits.any(axis=1), np.where(hits, vel, -1).max(axis=1), np.nan), "velocity")
    o_mean, o_sd = _masked(off, hits, 1)
    add(o_mean, "offset")
    add(o_sd, "offset")
    flat = lambda a: a.reshape(len(x), -1)  # noqa: E731
    hv, vv, ov = flat(hits), flat(vel), flat(off)
    lv_mean, lv_sd = _masked(vv, hv, 1)
    lo_mean, lo_sd = _masked(ov, hv, 1)
    add(lv_mean, "velocity")
    add(lv_sd, "velocity")
    add(np.where(hv.any(axis=1), (hv & (vv > 0.99)).sum(axis=1) / np.maximum(hv.sum(axis=1), 1), np.nan), "velocity")
    add(lo_mean, "offset")
    add(lo_sd, "offset")
    quarter = (np.arange(STEPS) % 4 == 0)[None, :, None]
    on, _ = _masked(flat(np.where(quarter, vel, 0)), flat(hits & quarter), 1)
    off_q, _ = _masked(flat(np.where(~quarter, vel, 0)), flat(hits & ~quarter), 1)
    add(on - off_q, "velocity")
    for step in (2, 1):  # 8th and 16th off-beats
        pos = (np.arange(STEPS) % step == 0) & (np.arange(STEPS) % (2 * step) != 0)
        m, _ = _masked(flat(off[:, pos]), flat(hits[:, pos]), 1)
        add(m, "offset")
    add(_bar_repeat(vel, hits), "velocity")
    add(_bar_repeat(off, hits), "offset")
    return np.concatenate(cols, axis=1), np.array(groups)


def two_sample_auc(real: np.ndarray, other: np.ndarray, real_files: np.ndarray, other_files: np.ndarray,
                   groups=FEATURE_GROUPS, seed: int = 0) -> tuple[float, float]:  # fmt: skip
    """ROC AUC (mean, SD over folds) of a classifier telling loops ``other`` from ``real``, with folds
    grouped by source file (``*_files``: a file id per loop) and only the features of ``groups``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from threadpoolctl import threadpool_limits

    if not len(real) or not len(other):
        return float("nan"), float("nan")  # e.g. a split of one file has no two halves
    fr, g = features(real)
    fo, _ = features(other)
    keep = np.isin(g, groups)
    x = np.concatenate([fr, fo])[:, keep]
    x = x[:, [len(np.unique(col[np.isfinite(col)])) > 1 for col in x.T]]  # drop features that never vary
    if not x.shape[1]:
        return 0.5, 0.0  # nothing tells the two sets apart
    y = np.r_[np.zeros(len(fr)), np.ones(len(fo))]
    files = np.r_[real_files, other_files]
    folds = min(FOLDS, len(np.unique(files)))
    if folds < 2 or len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    aucs = []
    with threadpool_limits(1):  # small fits: one thread each is faster than OpenMP's on a shared CPU
        for train, test in GroupKFold(folds).split(x, y, files):
            if len(np.unique(y[test])) < 2 or len(np.unique(y[train])) < 2:
                continue
            clf = HistGradientBoostingClassifier(random_state=seed).fit(x[train], y[train])
            aucs.append(roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1]))
    if not aucs:
        return float("nan"), float("nan")
    return float(np.mean(aucs)), float(np.std(aucs))


def auc_cells(real: np.ndarray, other: np.ndarray, files: np.ndarray) -> str:
    """The realism classifier's AUC, table cells: all features (± SD over folds), velocity, offset."""
    cells = []
    for groups in (FEATURE_GROUPS, ("velocity",), ("offset",)):
        auc, sd = two_sample_auc(real, other, files, files, groups=groups)
        cells.append(f"{auc:.3f} ± {sd:.3f}" if groups == FEATURE_GROUPS else f"{auc:.3f}")
    return " | ".join(cells)


def structure(loops: np.ndarray) -> dict:
    """A loop's structure over a set of loops (N, 32, 27). Per drum (lists of 9): ``mean`` velocity of
    its hits; ``within`` velocity / offset SD inside one loop (loops with 2+ hits, averaged);
    ``between`` SD over loops of the loop's mean velocity / offset (loops with 2+ hits). Per set:
    ``level_between`` SD over loops of a loop's mean velocity of all hits (its overall level);
    ``timing_between`` the same of its mean offset; ``repeat`` mean |velocity / offset in bar 1 - in
    bar 2| at cells played in both; ``crash`` mean crash velocity,
    and mean / SD in loops with MANY_CRASHES or more."""
    x = np.asarray(loops, np.float64).reshape(-1, STEPS, 3 * N_CLASSES)
    hits = x[:, :, HITS] > 0.5
    out = {"mean": [], "within": {"velocity": [], "offset": []}, "between": {"velocity": [], "offset": []}}
    for c in range(N_CLASSES):
        h = hits[:, :, c]
        v = x[:, :, VELOCITIES][:, :, c]
        out["mean"].append(float(v[h].mean()) if h.any() else float("nan"))
        for kind, cols in (("velocity", VELOCITIES), ("offset", OFFSETS)):
            m, sd = _masked(x[:, :, cols][:, :, c], h, 1, min_count=2)
            ok = np.isfinite(sd)
            out["within"][kind].append(float(sd[ok].mean()) if ok.any() else float("nan"))
            out["between"][kind].append(float(m[ok].std()) if ok.sum() > 1 else float("nan"))
    level, _ = _masked(x[:, :, VELOCITIES].reshape(len(x), -1), hits.reshape(len(x), -1), 1)
    timing, _ = _masked(x[:, :, OFFSETS].reshape(len(x), -1), hits.reshape(len(x), -1), 1)
    out["level_between"] = float(np.nanstd(level))
    out["timing_between"] = float(np.nanstd(timing))
    out["repeat"] = {
        k: float(np.nanmean(_bar_repeat(x[:, :, c], hits))) for k, c in (("velocity", VELOCITIES), ("offset", OFFSETS))
    }
    crashes = hits[:, :, CRASH]
    cv = x[:, :, VELOCITIES][:, :, CRASH]
    many = crashes & (crashes.sum(axis=1) >= MANY_CRASHES)[:, None]
    out["crash"] = float(cv[crashes].mean()) if crashes.any() else float("nan")
    out["crash_many"] = (float(cv[many].mean()), float(cv[many].std())) if many.any() else (float("nan"),) * 2
    return out


def random_humanize(scores: np.ndarray, reference: np.ndarray, seed: int) -> np.ndarray:
    """A DAW's random-humanize knob set to real playing's spread: every hit of ``scores`` (N, 32, 9) at
    its drum's mean velocity in ``reference`` loops plus uniform noise of the same SD; offsets uniform
    with each drum's real offset SD."""
    rng = np.random.default_rng(seed)
    ref = np.asarray(reference).reshape(-1, STEPS, 3 * N_CLASSES)
    hits = ref[:, :, HITS] > 0.5
    out = np.zeros(scores.shape[:2] + (3 * N_CLASSES,), np.float32)
    out[:, :, HITS] = scores
    half_width = np.sqrt(3.0)  # a uniform on [-a, a] has SD a / sqrt(3)
    for c in range(N_CLASSES):
        v, o = ref[:, :, VELOCITIES][:, :, c][hits[:, :, c]], ref[:, :, OFFSETS][:, :, c][hits[:, :, c]]
        if not len(v):
            continue
        noise = rng.uniform(-half_width, half_width, (2,) + scores.shape[:2])
        out[:, :, VELOCITIES.start + c] = scores[:, :, c] * np.clip(v.mean() + v.std() * noise[0], 0.01, 1)
        out[:, :, OFFSETS.start + c] = scores[:, :, c] * np.clip(o.std() * noise[1], -1, 1)
    return out


def template(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A fixed groove template: every hit of ``scores`` at the mean velocity and offset real playing
    (``reference``) has at that step and drum (its drum's mean where the step never plays)."""
    ref = np.asarray(reference, np.float64).reshape(-1, STEPS, 3 * N_CLASSES)
    hits = ref[:, :, HITS] > 0.5
    out = np.zeros(scores.shape[:2] + (3 * N_CLASSES,), np.float32)
    out[:, :, HITS] = scores
    for cols in (VELOCITIES, OFFSETS):
        values = ref[:, :, cols]
        count = hits.sum(axis=0)
        drum_mean = np.where(hits, values, 0).sum(axis=(0, 1)) / np.maximum(count.sum(axis=0), 1)
        cell = np.where(count > 0, np.where(hits, values, 0).sum(axis=0) / np.maximum(count, 1), drum_mean)
        out[:, :, cols] = scores * cell
    return out


def evaluate(engine, loops: np.ndarray, files: np.ndarray, seed: int, models=tuple(KINDS), seeds: int = SEEDS) -> dict:
    """The two-sample test and the structure table: each model's humanizations (one per window, default
    settings; with its critic off too where it has one, with independent draws where it has a feel;
    ``beatguide.critic``, ``beatguide.feel``) against the real windows, and the
    reference rows (real vs real, by file halves; a random-humanize knob; a fixed template).
    {"auc": {row: {group: (mean, SD)}}, "structure": {row: ...}, "auc_seeds": {model: [AUC, ...]}}: the
    tables from seed ``seed``; each model's AUC (all features) also from ``seeds`` humanizations in all,
    from ``seed`` on, whose mean the AUC goal is judged on."""
    from .. import gestures
    from .experiments import humanize

    scores = gestures.score(loops)
    rows, seeded = {}, {}
    for model in models:
        if model in engine.names:
            rows[model] = humanize(engine, model, loops, 1, seed)[:, 0]
            seeded[model] = [
                two_sample_auc(loops, humanize(engine, model, loops, 1, seed + k)[:, 0], files, files, seed=seed)[0]
                for k in range(1, seeds)
            ]
            if engine.models[model].critic is not None:  # one draw, as the model plays without its critic
                rows[f"{model} (critic off)"] = humanize(engine, model, loops, 1, seed, candidates=1)[:, 0]
            if not engine.models[model].feel.independent:  # the model as trained: every note drawn on its own
                with feel(engine, model, Feel()):
                    rows[f"{model} (independent draws)"] = humanize(engine, model, loops, 1, seed, candidates=1)[:, 0]
    rows["random humanize knob"] = random_humanize(scores, loops, seed)
    rows["fixed template"] = template(scores, loops)
    group_sets = {"all": FEATURE_GROUPS, **{g: (g,) for g in FEATURE_GROUPS}}
    auc = {name: {g: two_sample_auc(loops, gen, files, files, gs, seed) for g, gs in group_sets.items()}
           for name, gen in rows.items()}  # fmt: skip
    uniq = np.unique(files)
    half = np.isin(files, np.random.default_rng(seed).permutation(uniq)[: len(uniq) // 2])
    auc["real vs real (file halves)"] = {
        g: two_sample_auc(loops[half], loops[~half], files[half], files[~half], gs, seed)
        for g, gs in group_sets.items()
    }
    structures = {"real": structure(loops), **{name: structure(gen) for name, gen in rows.items()}}
    auc_seeds = {m: [auc[m]["all"][0], *more] for m, more in seeded.items()}
    return {"auc": auc, "structure": structures, "auc_seeds": auc_seeds}


def seeds_auc(result: dict, model: str) -> tuple[float, float, list[float]]:
    """A model's AUC (all features) over the humanization seeds of an ``evaluate`` result: mean, SD over
    the seeds (NaN with one) and each seed's; a result without them: seed ``seed``'s alone."""
    each = result.get("auc_seeds", {}).get(model) or [result["auc"][model]["all"][0]]
    return float(np.mean(each)), float(np.std(each, ddof=1)) if len(each) > 1 else float("nan"), list(each)


REFERENCES = ("real", "random humanize knob", "fixed template")


def model_rows(result: dict) -> list[str]:
    """The rows of an ``evaluate`` result that are models (not references)."""
    return [m for m in result["structure"] if m not in REFERENCES]


def relative_change(a: float, b: float) -> float:
    """a / b - 1 (NaN where b is 0 or missing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b) - 1)


TOLERANCE = 0.15  # the structure goals: within 15 % of real


def level_within_goal(st: dict, real: dict) -> bool:
    """Whether the between-loop SD of the loop's level in structure ``st`` is within TOLERANCE of ``real``'s."""
    return bool(abs(relative_change(st["level_between"], real["level_between"])) <= TOLERANCE)


def within_changes(st: dict, real: dict) -> np.ndarray:
    """Per goal drum (GOAL_DRUMS), the within-loop velocity SD of structure ``st`` relative to ``real``'s
    (a / b - 1)."""
    return np.array([relative_change(st["within"]["velocity"][c], real["within"]["velocity"][c])
                     for c in map(CLASSES.index, GOAL_DRUMS)])  # fmt: skip


def structure_within_goals(st: dict, real: dict) -> bool:
    """Whether structure ``st`` meets both structure goals against ``real``'s: each goal drum's
    within-loop velocity SD and the between-loop SD of the loop's level within TOLERANCE."""
    return bool(np.all(np.abs(within_changes(st, real)) <= TOLERANCE)) and level_within_goal(st, real)


def goals(result: dict, model: str) -> dict:
    """The realism goals of one model: {goal: (value, met)}."""
    st, real = result["structure"][model], result["structure"]["real"]
    auc, _, each = seeds_auc(result, model)
    within = within_changes(st, real)
    level = relative_change(st["level_between"], real["level_between"])
    means = np.abs(np.array(st["mean"]) - np.array(real["mean"]))
    worst = int(np.nanargmax(means)) if np.isfinite(means).any() else None
    return {
        "AUC <= 0.75": (
            f"{auc:.3f}" + (f" (seeds: {' / '.join(f'{a:.3f}' for a in each)})" if len(each) > 1 else ""),
            bool(auc <= 0.75)),
        "within-loop velocity SD within 15 % (kick / snare / closed hat / ride)": (
            " / ".join(f"{w:+.0%}" for w in within), bool(np.all(np.abs(within) <= TOLERANCE))),
        "between-loop SD of loop level within 15 %": (f"{level:+.0%}", level_within_goal(st, real)),
        "every drum's mean velocity within 0.05": (
            "n/a" if worst is None else f"worst {CLASSES[worst]} {means[worst]:.3f}",
            worst is not None and bool(np.nanmax(means) <= 0.05)),
    }  # fmt: skip


def report_lines(result: dict) -> list[str]:
    """The realism sections of docs/results.md: goals, the two-sample test, the structure table."""
    auc, st = result["auc"], result["structure"]
    models = model_rows(result)
    lines = [
        "## Realism: can a classifier tell the loops from a drummer's?",
        "",
        "Each validation window's score humanized once by each model at the default settings (*critic "
        "off*: one draw, without the model's critic; *independent draws*: every note drawn on its own, "
        "as the model was trained, critic off); a "
        "gradient-boosted classifier (HistGradientBoostingClassifier) on per-loop features (per drum: hit "
        "count, velocity mean / SD / max, offset mean / SD; per loop: velocity and offset mean and SD, share "
        "at full velocity, quarter-note accent, off-beat timing, bar-to-bar repeat) tells them from the real "
        f"windows; {FOLDS}-fold cross-validation grouped by source file; ROC AUC mean ± SD over folds (0.5: "
        "indistinguishable). Columns: all features, then one feature group alone. References: two halves "
        "of the real files against each other; a DAW-style random-humanize knob (each drum's mean velocity, "
        "uniform noise with real playing's SD); a fixed template (each step's and drum's mean velocity "
        "and offset).",
        "",
        "| loops | AUC, all features | hits | velocity | offset |",
        "|---|---|---|---|---|",
    ]
    for name, r in auc.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{r[g][0]:.3f} ± {r[g][1]:.3f}" for g in ("all", *FEATURE_GROUPS)) + " |"
        )
    if result.get("auc_seeds"):
        n = max(len(v) for v in result["auc_seeds"].values())
        lines += [
            "",
            f"Each model's AUC (all features) from {n} humanizations, one seed each (the tables above: the "
            "first): how far it moves with the draws alone. The AUC goal is judged on their mean.",
            "",
            "| model | AUC per seed | mean ± SD over seeds |",
            "|---|---|---|",
        ]
        for m in result["auc_seeds"]:
            mean, sd, each = seeds_auc(result, m)
            lines.append(f"| {m} | {' / '.join(f'{a:.3f}' for a in each)} | {mean:.3f} ± {sd:.3f} |")
    lines += ["", "| model | goal | value | met |", "|---|---|---|---|"]
    for m in models:
        lines += [f"| {m} | {g} | {v} | {'yes' if ok else 'no'} |" for g, (v, ok) in goals(result, m).items()]
    names = list(st)
    lines += [
        "",
        "## Realism: a loop's structure, generated vs real",
        "",
        "Per drum: mean velocity; within-loop SD (the spread inside one loop, loops with 2+ hits of the "
        "drum, averaged); between-loop SD (of the loop's mean, over loops). Per set: between-loop SD of a "
        "loop's overall level (mean velocity of all its hits) and of its mean offset; bar-to-bar repeat "
        "(mean |bar 1 - bar 2| at cells played in both); crash velocity, and in loops with "
        f"{MANY_CRASHES}+ crashes its mean and SD.",
        "",
        "| measure | drum | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    fmt = lambda x: "n/a" if not np.isfinite(x) else f"{x:.3f}"  # noqa: E731
    for c, drum in enumerate(CLASSES):
        lines.append(f"| mean velocity | {drum} | " + " | ".join(fmt(st[n]["mean"][c]) for n in names) + " |")
        for kind in ("velocity", "offset"):
            for where in ("within", "between"):
                cells = " | ".join(fmt(st[n][where][kind][c]) for n in names)
                lines.append(f"| {where}-loop {kind} SD | {drum} | {cells} |")
    for label, get in (
        ("between-loop SD of loop level", lambda s: s["level_between"]),
        ("between-loop SD of mean offset", lambda s: s["timing_between"]),
        ("velocity bar-to-bar repeat", lambda s: s["repeat"]["velocity"]),
        ("offset bar-to-bar repeat", lambda s: s["repeat"]["offset"]),
        ("crash mean velocity", lambda s: s["crash"]),
        (f"crash velocity mean, {MANY_CRASHES}+ crashes", lambda s: s["crash_many"][0]),
        (f"crash velocity SD, {MANY_CRASHES}+ crashes", lambda s: s["crash_many"][1]),
    ):
        lines.append(f"| {label} | all | " + " | ".join(fmt(get(st[n])) for n in names) + " |")
    return lines + [""]
