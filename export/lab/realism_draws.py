"""Where the realism gap lies: in how the value head's draws move together, or in its locations.

Teacher-forced (each window's own codes, posterior means; the drummer's own previous steps given), the
probability integral transform (PIT) of every played velocity and offset under the value head: the
head's distribution function at the drummer's value (a velocity at 127: uniform above the top). Were
the head the drummers' own distribution, the PITs would be uniform and independent.

1. Calibration (validation): per drum, the velocity PITs' histogram (10 bins; 0.10 each if calibrated).
2. Dependence (train and validation): correlation of the PITs' normal scores between two notes of one
   loop, by how the notes are related; and the spread of the scores within a (loop, drum) against
   as many independent draws.
3. The realism classifier (validation, each window once; AUC on all features, velocity and offset
   features apart) on loops whose values are drawn in other ways, with each window's own groove and
   with the default source: teacher-forced draws and locations; free-running with independent draws,
   the shipped copula, a copula whose shares are the PITs' correlations, the shipped copula with a
   scale per (loop, drum) on the note's own draw (``Feel.scatter``), and a training window's PIT field
   (the window playing the most of the same cells) as the draws::

    python export/lab/realism_draws.py --gmd DIR [--model agvae2] [--models DIR] [--seed 0] [--scatter 0.8]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm

from beatguide import gestures
from beatguide.cli import GMD_ENV
from beatguide.drums import CLASSES
from beatguide.drums import N_CLASSES as N
from beatguide.engine import Engine, Request
from beatguide.evaluate.experiments import run
from beatguide.evaluate.realism import auc_cells, feel
from beatguide.feel import Feel
from beatguide.gmd import load_split
from beatguide.grid import HITS, MIN_VELOCITY, TOP_VELOCITY
from beatguide.model_paths import model_dirs
from beatguide.registry import AGVAE2
from beatguide_export.data import WindowSet
from beatguide_export.feel_fit import describe
from beatguide_export.finetune import load_base
from beatguide_export.models import DrumVAE, value_locations, value_scales

RELATIONS = ("other drum, other step", "other drum, same step", "same drum", "same drum, one bar apart")


def teacher_forced(model: DrumVAE, windows: WindowSet, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(PITs (N, 32, 18), NaN where no hit; loops with the drummers' hits and values drawn from the
    head given the drummer's past (N, 32, 27); the same with every value at its location)."""
    gen = torch.Generator().manual_seed(seed)
    pits, drawn, located = [], [], []
    model.eval()
    with torch.no_grad():
        for gest, target in windows.batches(512):
            _, raw, _ = model(gest, target, sample=False, hit_control=-torch.ones_like(target[..., :N]))
            vel, off = value_locations(raw, head=True, wide=model.config.censored)
            loc, scale = torch.cat([vel, off], -1), value_scales(raw)
            hits, values = target[..., :N], target[..., N:]
            u = torch.sigmoid((values - loc) / scale)
            top = torch.sigmoid((TOP_VELOCITY - vel) / scale[..., :N])  # P(a draw below the top)
            above = top + torch.rand(top.shape, generator=gen) * (1 - top)
            u[..., :N] = torch.where(values[..., :N] >= TOP_VELOCITY, above, u[..., :N])
            played = torch.cat([hits, hits], -1) > 0.5
            pits.append(torch.where(played, u, torch.nan).numpy())
            r = torch.rand(scale.shape, generator=gen).clamp(1e-6, 1 - 1e-6)
            for out, v in ((drawn, loc + scale * torch.log(r / (1 - r))), (located, loc)):
                vel_, off_ = v[..., :N].clamp(MIN_VELOCITY, 1.0), v[..., N:].clamp(-1.0, 1.0)
                out.append(torch.cat([hits, vel_ * hits, off_ * hits], -1).numpy())
    return np.concatenate(pits), np.concatenate(drawn), np.concatenate(located)


def normal_scores(pits: np.ndarray) -> np.ndarray:
    """The PITs' normal scores (NaN kept)."""
    return norm.ppf(np.clip(pits, 1e-4, 1 - 1e-4))


def pair_correlations(z: np.ndarray) -> np.ndarray:
    """(2, 4): per kind (velocity, offset), the mean product of two notes' normal scores (their
    correlation, the scores being standard) over the note pairs of one loop in each of RELATIONS;
    ``z`` (N, 32, 18), NaN where no hit."""
    steps, drums = np.meshgrid(np.arange(z.shape[1]), np.arange(N), indexing="ij")
    t, d = steps.ravel(), drums.ravel()
    same_d, same_t = d[:, None] == d[None, :], t[:, None] == t[None, :]
    bar = same_d & (np.abs(t[:, None] - t[None, :]) == z.shape[1] // 2)
    masks = [~same_d & ~same_t, ~same_d & same_t, same_d & ~same_t & ~bar, bar]
    out = np.zeros((2, len(RELATIONS)))
    for k in range(2):
        x = z[..., k * N : (k + 1) * N].reshape(len(z), -1)
        played = np.isfinite(x)
        x = np.where(played, x, 0.0)
        played = played.astype(np.float64)
        prod, count = x.T @ x, played.T @ played  # sums over loops, per pair of cells
        out[k] = [prod[m].sum() / max(count[m].sum(), 1) for m in masks]
    return out


def within_spread(z: np.ndarray, rng: np.random.Generator, min_notes: int = 4) -> np.ndarray:
    """(2, 2, 3): per kind, the 10th, 50th and 90th percentile over (loop, drum) pairs with
    ``min_notes`` or more notes of the normal scores' SD within the pair, for the scores and for as
    many independent standard normal draws."""
    out = np.zeros((2, 2, 3))
    for k in range(2):
        x = z[..., k * N : (k + 1) * N].transpose(0, 2, 1)  # (loops, drums, steps)
        count = np.isfinite(x).sum(axis=2)
        keep = count >= min_notes
        sd = np.nanstd(x[keep], axis=1)
        iid = [rng.standard_normal(c).std() for c in count[keep]]
        out[k] = np.percentile(sd, [10, 50, 90]), np.percentile(iid, [10, 50, 90])
    return out


def copula_from(corr: np.ndarray) -> Feel:
    """The copula whose within-loop correlations are ``corr`` (pair_correlations' rows): loop share the
    correlation across drums, drum share what one drum adds, bar share what one bar apart adds (each
    at least 0, together at most 0.9)."""
    shares = []
    for other, _, drum, bar in corr:
        a = max(other, 0.0)
        b = max(drum - a, 0.0)
        c = min(max(bar - a - b, 0.0), 0.9 - a - b)
        shares.append(tuple(round(float(x), 3) for x in (a, b, c)))
    return Feel(*zip(*shares))


@dataclasses.dataclass(frozen=True, eq=False)
class DonorFields(Feel):
    """The copula's uniforms, replaced where a donor window played by its PITs: request seed ``first +
    k`` takes ``fields[donors[k]]`` (fields (M, 32, 18), NaN where the donor did not play)."""

    fields: np.ndarray = None
    donors: np.ndarray = None
    first: int = 0

    def apply(self, uniforms, seed, total, shared=None):
        out = super().apply(uniforms, seed, total, shared)
        if out.shape[-1] != 3 * N:
            return out
        field = self.fields[self.donors[seed - self.first]]
        out = out.copy()
        out[..., N:] = np.where(np.isnan(field), out[..., N:], field)
        return out.astype(np.float32)


def nearest_cells(query: np.ndarray, pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """For each query loop's hits (Q, 32, 9), one of the ``k`` pool loops (P, 32, 9) whose played cells
    overlap it most (Jaccard), drawn at random."""
    q = query.reshape(len(query), -1).astype(np.float32)
    p = pool.reshape(len(pool), -1).astype(np.float32)
    inter = q @ p.T
    jaccard = inter / np.maximum(q.sum(1)[:, None] + p.sum(1)[None, :] - inter, 1)
    k = min(k, len(pool))
    top = np.argpartition(-jaccard, k - 1, axis=1)[:, :k]
    return top[np.arange(len(query)), rng.integers(0, k, len(query))]


def humanize_once(engine: Engine, model: str, loops: np.ndarray, own: bool, first: int) -> np.ndarray:
    """Each window's score humanized once (request seed ``first + k``), with its own groove or not."""
    score = gestures.score(loops)
    groove = gestures.groove(loops) if own else [None] * len(loops)
    reqs = [Request(model, 1, 1.0, first + k, score=s, groove=g) for k, (s, g) in enumerate(zip(score, groove))]
    return np.stack([r.loops[0] for r in run(engine, model, reqs, "humanize", progress=False)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="realism_draws.py", description=__doc__.split("\n")[0])
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument("--models", type=Path, action="append", help="model folders (default: the search path)")
    ap.add_argument("--model", default=AGVAE2.name, help="a model whose values are drawn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scatter", type=float, default=0.8, help="the scale mixture's scatter (velocity and offset)")
    ap.add_argument("--donors", type=int, default=32, help="donor windows drawn from the nearest this many")
    args = ap.parse_args(argv)
    if args.gmd is None:
        ap.error(f"give --gmd or set ${GMD_ENV}")
    torch.set_num_threads(1)
    dirs = model_dirs(args.models)
    base = load_base(args.model, dirs).model
    if base.decoder.dist is None:
        print(f"{args.model}: no value head (its velocities and offsets are not drawn)")
        return 2
    train, val = (load_split(args.gmd, s, progress=False) for s in ("train", "validation"))
    real, files = val.loops, val.file_index
    rng = np.random.default_rng(args.seed)
    pit_val, tf_drawn, tf_located = teacher_forced(base, WindowSet(real), args.seed)
    pit_train = teacher_forced(base, WindowSet(train.loops), args.seed)[0]
    z_val, z_train = normal_scores(pit_val), normal_scores(pit_train)

    print(f"{args.model}: the value head teacher-forced, each window's own codes (seed {args.seed})\n")
    print("Velocity PITs, validation (0.10 per bin if calibrated)\n")
    print("| drum | notes | " + " | ".join(f"{b / 10:.1f}-{(b + 1) / 10:.1f}" for b in range(10)) + " |")
    print("|---|---|" + "---|" * 10)
    for d, name in enumerate(CLASSES):
        u = pit_val[..., d][np.isfinite(pit_val[..., d])]
        if len(u):
            h = np.histogram(u, bins=10, range=(0, 1))[0] / len(u)
            print(f"| {name} | {len(u)} | " + " | ".join(f"{x:.3f}" for x in h) + " |")

    print("\nCorrelation of two notes' normal scores within one loop\n")
    print(
        "| split | kind | "
        + " | ".join(RELATIONS)
        + " | SD within a (loop, drum), 10/50/90th percentile | independent draws |"
    )
    print("|---|---|" + "---|" * (len(RELATIONS) + 2))
    corr = {}
    for split, z in (("train", z_train), ("validation", z_val)):
        corr[split] = pair_correlations(z)
        spread = within_spread(z, rng)
        for k, kind in enumerate(("velocity", "offset")):
            q, iid = (" / ".join(f"{x:.2f}" for x in row) for row in spread[k])
            print(f"| {split} | {kind} | " + " | ".join(f"{c:.3f}" for c in corr[split][k]) + f" | {q} | {iid} |")

    engine = Engine(dirs)
    shipped = engine.models[args.model].feel
    scatter = (args.scatter, args.scatter)
    donors = nearest_cells(real[..., HITS] > 0.5, train.loops[..., HITS] > 0.5, args.donors, rng)
    feels = {
        "independent draws": Feel(),
        f"the shipped copula ({describe(shipped)})": shipped,
        f"copula from the train PITs' correlations ({describe(copula_from(corr['train']))})": copula_from(
            corr["train"]
        ),
        f"copula from the validation PITs' correlations ({describe(copula_from(corr['validation']))})": copula_from(
            corr["validation"]
        ),
        f"the shipped copula, scale mixture (scatter {args.scatter})": dataclasses.replace(shipped, scatter=scatter),
        f"a train window's PIT field (one of the {args.donors} nearest in cells), the shipped copula elsewhere": DonorFields(
            shipped.loop,
            shipped.drum,
            shipped.bar,
            shipped.spread,
            fields=pit_train,
            donors=donors,
            first=args.seed * len(real),
        ),
    }
    print(f"\nThe realism classifier, {len(real)} validation windows once each (AUC all ± SD | velocity | offset)\n")
    print("| values | groove | AUC all | velocity | offset |")
    print("|---|---|---|---|---|")
    print(f"| teacher-forced draws | own | {auc_cells(real, tf_drawn, files)} |")
    print(f"| teacher-forced locations | own | {auc_cells(real, tf_located, files)} |")
    for label, f in feels.items():
        with feel(engine, args.model, f):
            for own in (True, False):
                gen = humanize_once(engine, args.model, real, own, args.seed * len(real))
                print(f"| {label} | {'own' if own else 'default source'} | {auc_cells(real, gen, files)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
