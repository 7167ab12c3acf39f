"""The experiments behind docs/results.md, run through the engine in large batches."""

from __future__ import annotations

import dataclasses as dc

import numpy as np
from tqdm import tqdm

from .. import gestures
from ..drums import CLASSES
from ..engine import FREE, Engine, Request
from ..grid import HITS, STEPS
from ..registry import AGVAE2, AGVAE11, KINDS, SCORE_SIDE
from . import metrics

BATCH = 128  # windows per engine call
SWING_TARGETS = (0.05, 0.2, 0.4)
SWING_VELOCITIES = (0.8, 0.6)  # taps on on-beat / off-beat 16ths
HUMANIZE_MODELS = tuple(KINDS)  # every kind humanizes a score
SWING_MODEL, LANES_MODEL = AGVAE2.name, AGVAE11.name  # the paper's model of Table 2; the one that reads lanes
HH, RIDE = CLASSES.index("closed_hihat"), CLASSES.index("ride")


def run(engine: Engine, model: str, requests: list[Request], desc: str, progress=True) -> list:
    """Results of many requests, BATCH at a time."""
    out = []
    for i in tqdm(range(0, len(requests), BATCH), desc=desc, disable=not progress, leave=False):
        out.extend(engine.generate_batch(requests[i : i + BATCH]))
    return out


def humanize(engine: Engine, model: str, loops: np.ndarray, samples: int, seed: int, **options) -> np.ndarray:
    """Humanize every window's score ``samples`` times -> (windows, samples, 32, 27); ``options`` are
    further Request fields (lane modes, latent source)."""
    reqs = [Request(model, samples, 1.0, seed + i, score=gestures.score(x), **options) for i, x in enumerate(loops)]
    return np.stack([r.loops for r in run(engine, model, reqs, f"humanize {model}")])


def realism(gen: np.ndarray, loops: np.ndarray) -> dict:
    """Per-drum 1-D Wasserstein distances of hit offsets and velocities: generated vs real loops."""
    return {
        kind: [
            metrics.wasserstein(metrics.hit_values(gen, c, kind), metrics.hit_values(loops, c, kind))
            for c in range(len(CLASSES))
        ]
        for kind in ("offset", "velocity")
    }


def real_reference(loops: np.ndarray, file_index: np.ndarray, seed: int) -> dict:
    """How far real playing is from itself: the split's files in two random halves (by file, not by
    window), Wasserstein distances between the halves' offsets and velocities, per drum."""
    files = np.unique(file_index)
    half = np.random.default_rng(seed).permutation(files)[: len(files) // 2]
    a = np.isin(file_index, half)
    return realism(loops[a], loops[~a])


def offset_spread(loops: np.ndarray) -> list:
    """Standard deviation of each drum's hit offsets (NaN for a drum without hits)."""
    return [float(np.std(v)) if len(v) else float("nan") for v in (metrics.hit_values(loops, c, "offset")
            for c in range(len(CLASSES)))]  # fmt: skip


def _summary(gen: np.ndarray, loops: np.ndarray, scores: np.ndarray) -> dict:
    """Diversity, hit F1 against the scores and realism of (windows, samples, 32, 27) outputs."""
    div = [metrics.offset_diversity(g, s) for g, s in zip(gen, scores)]
    prf = metrics.hit_prf(gen[..., HITS], np.broadcast_to(scores[:, None], gen[..., HITS].shape))
    return {
        "diversity": metrics.mean_and_se(div),
        "prf": prf,
        "wasserstein": realism(gen, loops),
        "offset_sd": offset_spread(gen),
    }


def latent_sources(engine: Engine, loops: np.ndarray, seed: int, samples: int = 5) -> dict:
    """ "Where prior draws land": each score humanized with the groove latent from (a) the prior, (b) the
    fitted prior without conditioning on the score, (c) the fitted prior (conditioned), (d) the bank of
    training codes, (e) other windows' posteriors (their grooves given), (f) the window's own posterior
    (its own groove given); (b)-(d) where the model has them. Models with separate score and groove
    latents."""
    scores, grooves = gestures.score(loops), gestures.groove(loops)
    n = len(loops)
    others = [np.random.default_rng([seed, k]).permutation(n) for k in range(samples)]
    others = [np.where(o == np.arange(n), (o + 1) % n, o) for o in others]  # never the window itself
    out = {}
    for model in engine.names:
        caps = engine.capabilities(model)
        if not {"score", "groove"} <= set(caps["gestures"]):
            continue
        rows = {"prior": humanize(engine, model, loops, samples, seed, latent_source="prior")}
        if "fitted" in caps["latent_sources"]:
            rows["fitted prior, not conditioned"] = _unconditioned(engine, model, loops, samples, seed)
            rows["fitted prior"] = humanize(engine, model, loops, samples, seed, latent_source="fitted")
        if "bank" in caps["latent_sources"]:
            rows["bank"] = humanize(engine, model, loops, samples, seed, latent_source="bank")
        per_sample = []
        for k, o in enumerate(others):
            reqs = [
                Request(model, 1, 1.0, seed + k * n + i, score=scores[i], groove=grooves[j]) for i, j in enumerate(o)
            ]
            per_sample.append(np.stack([r.loops[0] for r in run(engine, model, reqs, f"other grooves {model}")]))
        rows["other windows' posteriors"] = np.stack(per_sample, axis=1)
        reqs = [Request(model, samples, 1.0, seed + i, score=scores[i], groove=grooves[i]) for i in range(n)]
        rows["own posterior"] = np.stack([r.loops for r in run(engine, model, reqs, f"own groove {model}")])
        out[model] = {name: _summary(gen, loops, scores) for name, gen in rows.items()}
    return out


def _unconditioned(engine: Engine, model: str, loops: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """Humanize with the groove-side latents drawn from the fitted prior's mixture as a whole, ignoring
    the score's code (what conditioning adds): the prior path's latents, groove side replaced, decoded."""
    m = engine.models[model]
    groove_side = np.concatenate(
        [np.full(lat["dim"] * lat["groups"], lat["gesture"] not in SCORE_SIDE) for lat in m.latents]
    )
    reqs = [
        Request(model, samples, 1.0, seed + i, score=gestures.score(x), latent_source="prior")
        for i, x in enumerate(loops)
    ]
    out = []
    for k, r in enumerate(run(engine, model, reqs, f"unconditioned {model}")):
        rng = np.random.default_rng([seed, k])
        draws = m.prior.sample(
            np.zeros((samples, m.prior.size)),
            np.zeros(m.prior.size, bool),
            rng.random(samples),
            rng.standard_normal((samples, m.prior.size)),
        )
        z = np.where(groove_side, draws, r.z).astype(np.float32)
        hits = m.feel.apply(rng.random((samples, STEPS, m.uniform_width), dtype=np.float32), seed + k, samples)
        out.append(m.decode(z, hits, 1.0, np.full((samples, STEPS, len(CLASSES)), FREE, np.float32)))
    return np.stack(out)


def lane_leak(engine: Engine, loops: np.ndarray, seed: int) -> dict:
    """Empty means empty: in each window one lane the drummer played is set empty (the others given,
    with groove and accents). Share of those lanes that get any hit, with the engine's forcing off
    (the model's own leak) and on (what users get), per model."""
    scores, grooves, accents = gestures.score(loops), gestures.groove(loops), gestures.accents(loops)
    played = scores.any(axis=1)
    rng = np.random.default_rng(seed)
    keep = np.flatnonzero(played.sum(axis=1) >= 2)  # something stays given
    emptied = np.array([rng.choice(np.flatnonzero(played[i])) for i in keep])
    out = {}
    for model in engine.names:
        caps = engine.capabilities(model)
        reqs = []
        for i, c in zip(keep, emptied):
            modes = tuple("empty" if k == c else "given" if played[i, k] else "empty" for k in range(len(CLASSES)))
            reqs.append(
                Request(
                    model,
                    1,
                    1.0,
                    seed + int(i),
                    score=scores[i],
                    lane_modes=modes,
                    groove=grooves[i] if "groove" in caps["gestures"] else None,
                    accents=accents[i] if "accents" in caps["gestures"] else None,
                )
            )
        row = {}
        for name, enforce in (("model alone", False), ("engine", True)):
            gen = []
            for j in tqdm(range(0, len(reqs), BATCH), desc=f"leak {model}", leave=False):
                gen.extend(r.loops[0] for r in engine.generate_batch(reqs[j : j + BATCH], enforce_lanes=enforce))
            gen = np.stack(gen)
            leaked = (gen[np.arange(len(gen)), :, emptied] > 0.5).any(axis=1)
            row[name] = float(leaked.mean())
        row["lanes"] = int(len(keep))
        out[model] = row
    return out


def exact(engine: Engine, loops: np.ndarray, seed: int, samples: int = 5) -> dict:
    """ "Humanize my pattern as drawn": every lane exact; diversity and realism per model."""
    scores = gestures.score(loops)
    out = {}
    for model in engine.names:
        if "exact" not in engine.capabilities(model)["lane_modes"]:
            continue
        gen = humanize(engine, model, loops, samples, seed, lane_modes=("exact",) * len(CLASSES))
        out[model] = _summary(gen, loops, scores)
    return out


def diversity_and_realism(engine: Engine, loops: np.ndarray, seed: int) -> dict:
    """Table 1 (offset diversity over 5 samples) and, on the same outputs, score keeping and realism; for
    every latent source the model has (the paper's prior, and the bank of real codes)."""
    scores = gestures.score(loops)
    out = {}
    for model in HUMANIZE_MODELS:
        if model not in engine.names:
            continue
        for source in engine.capabilities(model)["latent_sources"]:
            gen = humanize(engine, model, loops, 5, seed, latent_source=source)
            out[(model, source)] = {**_summary(gen, loops, scores), "offsets": metrics.hit_values(gen, 2, "offset")}
    out["real_offsets"] = metrics.hit_values(loops, 2, "offset")
    out["real_offset_sd"] = offset_spread(loops)
    return out


def swing_groove(target: float) -> np.ndarray:
    """A tap on every 16th: offset ``target`` on off-beats, 0 on on-beats."""
    g = np.zeros((32, 3), np.float32)
    g[:, 0] = 1
    g[0::2, 1], g[1::2, 1] = SWING_VELOCITIES
    g[1::2, 2] = target
    return g


def swing(engine: Engine, loops: np.ndarray, seed: int, model: str = SWING_MODEL) -> dict:
    """Table 2 / Figure 3: each swing groove applied with every score; off-beat offsets generated."""
    out = {}
    for target in SWING_TARGETS:
        g = swing_groove(target)
        reqs = [Request(model, 1, 1.0, seed + i, score=gestures.score(x), groove=g) for i, x in enumerate(loops)]
        gen = np.stack([r.loops[0] for r in run(engine, model, reqs, f"swing {target}")])
        off = metrics.offbeat_offsets(gen)
        out[target] = {"mean": float(off.mean()), "std": float(off.std()), "offsets": off}
    return out


def aux_readings(engine: Engine, loops: np.ndarray, seed: int) -> dict:
    """How well each AG-VAE reads its inputs: auxiliary score hit F1, groove velocity / offset MAE."""
    out = {}
    for model in (k.name for k in KINDS.values() if k.aux):
        if model not in engine.names:
            continue
        reqs = [
            Request(model, 1, 1.0, seed + i, score=gestures.score(x), groove=gestures.groove(x))
            for i, x in enumerate(loops)
        ]
        res = run(engine, model, reqs, f"aux {model}")
        score_rec = np.stack([r.aux["score"][0] for r in res])
        groove_rec = np.stack([r.aux["groove"][0] for r in res])
        g = gestures.groove(loops)
        tapped = g[..., 0] > 0.5
        out[model] = {
            "score_f1": metrics.hit_prf(score_rec, gestures.score(loops))[2],
            "groove_hit_f1": metrics.hit_prf(groove_rec[..., 0], g[..., 0])[2],
            "groove_velocity_mae": float(np.abs(groove_rec[..., 1] - g[..., 1])[tapped].mean()),
            "groove_offset_mae": float(np.abs(groove_rec[..., 2] - g[..., 2])[tapped].mean()),
            "groove_error": metrics.groove_offset_error(np.stack([r.loops[0] for r in res]), g),
        }
    return out


def lanes(engine: Engine, loops: np.ndarray, seed: int, model: str = LANES_MODEL) -> dict:
    """11-input fidelity: given lanes kept, empty lanes left empty, hi-hat <-> ride switch, accents, groove."""
    scores, grooves, accents = gestures.score(loops), gestures.groove(loops), gestures.accents(loops)
    played = scores.any(axis=1)  # (N, 9)
    # lanes that play are given, except one played lane per window (of those playing two or more), which
    # is set empty like the silent ones; the model's own leak into it is measured with forcing off
    rng = np.random.default_rng(seed)
    emptied = np.array([rng.choice(np.flatnonzero(p)) if p.sum() >= 2 else -1 for p in played])
    given_lanes = played & (np.arange(len(CLASSES)) != emptied[:, None])
    modes = [tuple("given" if g else "empty" for g in row) for row in given_lanes]
    reqs = [
        Request(model, 1, 1.0, seed + i, score=scores[i], lane_modes=modes[i], groove=grooves[i], accents=accents[i])
        for i in range(len(loops))
    ]
    gen = np.stack([r.loops[0] for r in run(engine, model, reqs, "lanes")])
    # the same windows with every played lane given: what the emptied lane's taps in the groove cost
    every = [dc.replace(q, lane_modes=tuple("given" if p else "empty" for p in played[i])) for i, q in enumerate(reqs)]
    every_hits = np.stack([r.loops[0] for r in run(engine, model, every, "lanes, all given")])[..., HITS] > 0.5
    all_played = np.broadcast_to(played[:, None, :], every_hits.shape)
    free = []
    for j in range(0, len(reqs), BATCH):
        free.extend(r.loops[0] for r in engine.generate_batch(reqs[j : j + BATCH], enforce_lanes=False))
    free_hits = np.stack(free)[..., HITS] > 0.5
    hits = gen[..., HITS] > 0.5
    given = np.broadcast_to(given_lanes[:, None, :], hits.shape)
    rows = np.flatnonzero(emptied >= 0)
    out = {
        "given_prf": metrics.hit_prf(hits[given], scores[given]),
        "all_given_prf": metrics.hit_prf(every_hits[all_played], scores[all_played]),
        "played_emptied_leak": float(free_hits[rows, :, emptied[rows]].any(axis=1).mean()),
        "played_emptied_engine": float(hits[rows, :, emptied[rows]].any(axis=1).mean()),
        "silent_leak": float(free_hits.any(axis=1)[~played].mean()),
        "accent_contrast": metrics.accent_contrast(gen, accents),
        "real_accent_contrast": metrics.accent_contrast(loops, accents),
        "groove_error": metrics.groove_offset_error(gen, grooves),
    }
    # hi-hat <-> ride: windows with hi-hats and no ride; move the hat pattern to the ride lane
    idx = np.flatnonzero(played[:, HH] & ~played[:, RIDE])
    swapped = scores[idx].copy()
    swapped[:, :, [HH, RIDE]] = swapped[:, :, [RIDE, HH]]
    out["switch_windows"] = int(len(idx))
    out["switch_rate"] = float("nan")
    if len(idx):
        results = {}
        for name, sc in (("hats", scores[idx]), ("ride", swapped)):
            reqs = [
                Request(
                    model,
                    1,
                    1.0,
                    seed + int(i),
                    score=s,
                    lane_modes=tuple("given" if s[:, c].any() else "empty" for c in range(9)),
                    groove=grooves[i],
                    accents=accents[i],
                )
                for i, s in zip(idx, sc)
            ]
            results[name] = np.stack([r.loops[0] for r in run(engine, model, reqs, f"switch {name}")])
        hh = lambda x: (x[..., HH] > 0.5).sum(axis=1)  # noqa: E731
        rd = lambda x: (x[..., RIDE] > 0.5).sum(axis=1)  # noqa: E731
        out["switch_rate"] = float(
            ((hh(results["hats"]) > rd(results["hats"])) & (rd(results["ride"]) > hh(results["ride"]))).mean()
        )
    return out
