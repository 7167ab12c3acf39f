"""What a critic's pick is worth, and which part of a draw carries it: the realism test on one model's
humanizations of the validation scores, one draw against the best of K by the model's critic.

Each row humanizes every window's score at the default settings, seeds ``--seed`` on (``--seeds``),
scored by the realism test's classifier (AUC, all features; mean ± SD over seeds) and the structure
goals (within-loop velocity SD of kick / snare / closed hat / ride and the between-loop SD of the
loop's level, against real). The best of K:

- *whole draws* (the engine's): K draws of the request, each from a seed of its own (latents, loop-level
  feel and notes), the critic keeping the best;
- *notes alone*: K draws of the notes with the latents and the loop-level feel of the first draw
  (explicit score and groove seeds; ``feel_of``);
- *whole draws, 4 variations*: requests of 4 variations as the device sends them, the critic keeping
  the draw whose 4 loops score best on average; its first variation is scored.

    python server/lab/critic_pick.py --gmd DIR --model factorized [--candidates 8] [--seeds 3]
"""

from __future__ import annotations

import numpy as np

from beatguide import gestures
from beatguide.engine import Engine, Request, candidate_seed, derive_seed
from beatguide.evaluate import realism
from beatguide.evaluate.experiments import humanize, run
from beatguide.gmd import load_split
from beatguide.model_paths import model_dirs
from lab_cli import at_least_one, study_args, study_parser


def notes_alone(engine: Engine, model: str, loops: np.ndarray, k: int, seed: int) -> np.ndarray:
    """(windows, 32, 27): per window the critic's best of ``k`` draws of the notes, the latents and the
    loop-level feel of the engine's first draw kept."""
    scores, n = gestures.score(loops), len(loops)
    reqs = [
        Request(model, 1, 1.0, candidate_seed(seed + i, c), score_seed=derive_seed(seed + i, 1),
                groove_seed=derive_seed(seed + i, 2), score=scores[i], feel_of=(seed + i, 0), candidates=1)
        for i in range(n) for c in range(k)
    ]  # fmt: skip
    drawn = np.stack([r.loops[0] for r in run(engine, model, reqs, f"notes alone {model}")]).reshape(n, k, 32, 27)
    best = engine.models[model].critic.scores(drawn).argmax(axis=1)
    return drawn[np.arange(n), best]


def main(argv=None) -> int:
    ap = study_parser("critic_pick.py", __doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a model with a critic (beatguide_export.critic --write)")
    ap.add_argument("--candidates", type=at_least_one, default=8, help="K, the draws the critic keeps one of")
    ap.add_argument("--seeds", type=at_least_one, default=1, help="humanizations per row, one seed each")
    args = study_args(ap, argv)
    val = load_split(args.gmd, "validation", progress=False)
    loops, files = val.loops, val.file_index
    engine = Engine(model_dirs(args.models))
    if engine.models[args.model].critic is None:
        ap.error(f"{args.model} has no critic: train one with python -m beatguide_export.critic --write")
    k, m = args.candidates, args.model
    rows = {
        "one draw (critic off)": lambda s: humanize(engine, m, loops, 1, s, candidates=1)[:, 0],
        f"best of {k} whole draws": lambda s: humanize(engine, m, loops, 1, s, candidates=k)[:, 0],
        f"best of {k} draws of the notes alone": lambda s: notes_alone(engine, m, loops, k, s),
        f"best of {k} whole draws, 4 variations": lambda s: humanize(engine, m, loops, 4, s, candidates=k)[:, 0],
    }
    real = realism.structure(loops)
    print(f"{m}, {len(loops)} validation windows, seeds {args.seed}-{args.seed + args.seeds - 1}\n")
    print("| setting | AUC (mean ± SD over seeds) | within-loop velocity SD vs real | loop level vs real |")
    print("|---|---|---|---|")
    for name, draw in rows.items():
        runs = [draw(args.seed + s) for s in range(args.seeds)]
        aucs = [realism.two_sample_auc(loops, g, files, files, seed=args.seed)[0] for g in runs]
        st = realism.structure(runs[0])
        within = " / ".join(f"{w:+.0%}" for w in realism.within_changes(st, real))
        level = realism.relative_change(st["level_between"], real["level_between"])
        sd = f" ± {np.std(aucs, ddof=1):.3f}" if len(aucs) > 1 else ""
        print(f"| {name} | {np.mean(aucs):.3f}{sd} | {within} | {level:+.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
