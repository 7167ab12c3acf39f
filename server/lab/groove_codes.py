"""What the drummer's own groove gives the decoder: the loop's own values, or a drummer's feel.

Given the drummer's own groove, the decoders' loops are told from the drummers' at about 0.77; with
the default source's code (a bank row: another window's) at about 0.82 (docs/ablation.md, "Where the
realism gap lies"). The own groove holds, per step, the loudest note's velocity and offset: most of
the loop's own values, which no humanizer of a score has. This separates what it carries. Validation
windows with a same-file partner (another window of the same take, two bars or more away), each
score humanized once (seed 0), with the groove code from:

- the default source (a bank row like the score in rhythm);
- the default source's loop re-encoded: its groove given back as the groove (once, twice);
- a real train window like the score in rhythm (the engine's bank match over a pool of train
  windows): its groove; its values moved onto the score's cells, then that groove;
- the same-file partner's groove (same drummer and take, other bars);
- the window's own groove.

Then the train window's and the own groove again on train windows of held-out files (the pool from
the other files), which asks whether the gap is the split's::

    python server/lab/groove_codes.py --gmd DIR [--model agvae2] [--models DIR] [--seed 0] [--pool 4096]
"""

from __future__ import annotations

import types

import numpy as np

from beatguide import gestures
from beatguide.drums import N_CLASSES as N
from beatguide.engine import Engine, Request, bank_neighbours, lane_groups
from beatguide.evaluate.experiments import run
from beatguide.evaluate.realism import auc_cells
from beatguide.gmd import load_split, same_file_partners
from beatguide.grid import HITS, OFFSETS, STEPS, VELOCITIES
from beatguide.model_paths import model_dirs
from beatguide.registry import AGVAE2
from lab_cli import study_args, study_parser

BEAT = 4  # steps per beat: a missing offset is the donor's mean at the same step of the beat


def groove_share(loops: np.ndarray) -> float:
    """The share of the hits that are their step's loudest: their velocity and offset are in the groove."""
    hits = loops[..., HITS] > 0.5
    return float(hits.any(axis=-1).sum() / max(hits.sum(), 1))  # one loudest hit per step that plays


def donor_pool(loops: np.ndarray) -> types.SimpleNamespace:
    """Real windows as a bank the engine's match reads (``bank_steps``, ``bank_hits``, ``bank_groups``)."""
    hits = loops[..., HITS] > 0.5
    return types.SimpleNamespace(
        bank_steps=hits.any(axis=2).astype(np.float32), bank_hits=hits, bank_groups=lane_groups(hits)
    )


def donors(pool: types.SimpleNamespace, loops: np.ndarray, seed: int) -> np.ndarray:
    """For each loop, one of the pool's windows most like its score (``engine.bank_neighbours``, every
    lane known), drawn at random."""
    out = []
    for k, score in enumerate(gestures.score(loops)):
        rows = bank_neighbours(pool, score.any(axis=1), score, np.ones(N, bool))
        out.append(rows[np.random.default_rng([seed, k]).integers(len(rows))])
    return np.array(out, dtype=np.int64)


def transplant(score: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """``score`` (32, 9) played with ``donor``'s (32, 27) values: its own where it plays the cell; else
    its mean velocity on that drum (its mean over all drums where it plays none) and its mean offset
    at that step of the beat (0 where it plays none there)."""
    played = donor[:, HITS] > 0.5
    vel, off = donor[:, VELOCITIES], donor[:, OFFSETS]
    out = np.zeros_like(donor)
    out[:, HITS] = score
    beat = np.arange(STEPS) % BEAT
    for t, d in zip(*np.nonzero(score > 0.5)):
        if played[t, d]:
            v, o = vel[t, d], off[t, d]
        else:
            v = vel[:, d][played[:, d]].mean() if played[:, d].any() else vel[played].mean() if played.any() else 0.5
            same = played[beat == t % BEAT]
            o = off[beat == t % BEAT][same].mean() if same.any() else 0.0
        out[t, VELOCITIES.start + d], out[t, OFFSETS.start + d] = v, o
    return out


def humanize_with(engine: Engine, model: str, loops: np.ndarray, grooves, seed: int) -> np.ndarray:
    """Each loop's score humanized once (request seed ``seed + k``) with groove ``grooves[k]`` (None:
    the default source)."""
    reqs = [
        Request(model, 1, 1.0, seed + k, score=s, groove=g)
        for k, (s, g) in enumerate(zip(gestures.score(loops), grooves))
    ]
    return np.stack([r.loops[0] for r in run(engine, model, reqs, "humanize", progress=False)])


def row(label: str, real: np.ndarray, gen: np.ndarray, files: np.ndarray) -> str:
    return f"| {label} | {auc_cells(real, gen, files)} |"


def main(argv=None) -> int:
    ap = study_parser("groove_codes.py", __doc__.split("\n")[0])
    ap.add_argument("--model", default=AGVAE2.name, help="a model that reads a groove")
    ap.add_argument("--pool", type=int, default=4096, help="train windows the donors are matched among")
    args = study_args(ap, argv)
    engine = Engine(model_dirs(args.models))
    if "groove" not in engine.capabilities(args.model)["gestures"]:
        print(f"{args.model} reads no groove")
        return 2
    train, val = (load_split(args.gmd, s, progress=False) for s in ("train", "validation"))
    rng = np.random.default_rng(args.seed)
    partners = same_file_partners(val.file_index, val.start_bar, rng)
    keep = partners != np.arange(len(partners))
    if not keep.any():
        print("no validation window has a same-file partner two bars or more away")
        return 2
    real, files = val.loops[keep], val.file_index[keep]
    pool_rows = rng.permutation(len(train.loops))[: args.pool]
    pool = train.loops[pool_rows]
    matched = pool[donors(donor_pool(pool), real, args.seed)]
    human = lambda loops, grooves: humanize_with(engine, args.model, loops, grooves, args.seed)  # noqa: E731

    print(
        f"{args.model}, {len(real)} validation windows with a same-file partner, humanized once (seed {args.seed}); "
        f"{groove_share(real):.1%} of their hits are their step's loudest (their values are in the groove)\n"
    )
    print("| groove code from | AUC all | velocity | offset |")
    print("|---|---|---|---|")
    default = human(real, [None] * len(real))
    print(row("the default source (a bank row)", real, default, files), flush=True)
    again = default
    for k in (1, 2):
        again = human(real, gestures.groove(again))
        print(row(f"the default source's loop re-encoded ({k}x)", real, again, files), flush=True)
    print(row("a train window like the score: its groove", real, human(real, gestures.groove(matched)), files))
    moved = np.stack([transplant(s, d) for s, d in zip(gestures.score(real), matched)])
    print(
        row(
            "the same window's values moved onto the score: their groove",
            real,
            human(real, gestures.groove(moved)),
            files,
        )
    )
    print(row("the same-file partner's groove", real, human(real, gestures.groove(val.loops[partners[keep]])), files))
    print(row("the window's own groove", real, human(real, gestures.groove(real)), files), flush=True)

    train_files = np.unique(train.file_index)
    held_files = rng.permutation(train_files)[: max(len(train_files) // 5, 1)]
    held = np.isin(train.file_index, held_files)
    rows = rng.permutation(np.flatnonzero(held))[: len(real)]
    t_real, t_files = train.loops[rows], train.file_index[rows]
    t_pool = train.loops[rng.permutation(np.flatnonzero(~held))[: args.pool]]
    t_matched = t_pool[donors(donor_pool(t_pool), t_real, args.seed)]
    print(f"\nThe same on {len(t_real)} train windows of held-out files (a fifth), the pool from the other files\n")
    print("| groove code from | AUC all | velocity | offset |")
    print("|---|---|---|---|")
    print(row("a train window like the score: its groove", t_real, human(t_real, gestures.groove(t_matched)), t_files))
    print(row("the window's own groove", t_real, human(t_real, gestures.groove(t_real)), t_files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
