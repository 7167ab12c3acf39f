"""Training a model (``beatguide train``), and the measurements that training and fine-tuning share.

``train`` reads as its steps, each a function below it in the order it runs: ``load_splits``,
``start_run`` (or ``resume_run`` after it), then per epoch ``train_epoch`` (``train_step`` per batch),
``validate`` and ``record_epoch`` (checkpoints, learning curve, early stopping), and at the end
``select_best`` and ``summarize``. Seeds are fixed, so a run repeats exactly."""

from __future__ import annotations

import csv
import json
import platform
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from beatguide import registry
from beatguide.engine import bank_neighbours, lane_groups
from beatguide.errors import BeatGuideError
from beatguide.fitted_prior import FittedPrior
from beatguide.registry import SCORE_SIDE

from . import data
from .losses import loop_terms, total_loss
from .models import N_DRUMS, DrumVAE, ModelConfig

BANK_FILE = "bank.npz"
BEST_FILE, LAST_FILE = "best.pt", "last.pt"  # the selected checkpoint; the latest, for --resume

# Sizes train on 2 CPU cores in well under an hour per model (README, "Training"). The measurements
# behind every choice here: docs/ablation.md, "The training design, version by version".
# Free bits (per latent, in bits) give each latent the room its gesture needs: the score latent a
# whole drum score (the paper's 48 bits rebuild it with wrong hits), the groove latent the timing of
# real playing (at 48 humanized timing collapses toward the mean); the baseline's one latent gets the
# factorized pair's total, so the two differ by factorization alone; agvae11's accents get room to
# lift accents as real drummers do, and each lane twice the room it filled at 48 (at 24 lanes lose hits).
# agvae11's lane encoder and auxiliary decoder are 256 wide and shared by the nine lanes (narrower or
# per lane, they do not rebuild even training lanes; shared, validation lanes read as well as
# training ones), with 32 dimensions per lane code: the fewest that hold a lane's hits exactly.
# Training-time augmentations (the presets below): no prior dropout, as it teaches the decoder the
# average feel (gestures not given are drawn from a bank of real codes instead); the previous step
# hidden now and then (regularises, and makes the decoder lean on the latents); forced hits to follow
# (the "exact" and "empty" lane modes); velocities and offsets drawn from logistic distributions
# that a head on the decoder's state learns, since a squared-error decoder returns the average and
# times every loop alike. The baseline stays the paper's GrooVAE (squared error): its point in
# Table 1 is what one latent of the score alone gives.
AUGMENT = dict(prior_dropout=0.0, force_lanes=0.5, prev_dropout=0.15)  # the baseline's: squared-error values
# Every other kind: values drawn (logistic); half the loops decoded with another loop's groove code and
# scored on their hits only, so the decoder plays the score whatever groove code it is given (humanize
# draws one that does not belong to the score); a quarter of the loops lose one drum they play from the
# score and the target while the groove keeps its taps, so a drum missing from the score stays silent
# whatever the groove taps.
DRAWN = dict(AUGMENT, values="logistic", swap_groove=0.5, delete_lane=0.25)
FACTORIZED = dict(
    enc_hidden=96,
    dec_hidden=256,
    dec_layers=1,
    z_dims={"score": 64, "groove": 64},
    free_bits={"score": 256.0, "groove": 128.0},
    **DRAWN,
)
DEFAULT_SIZES = {  # each kind's training config (beatguide.registry.KINDS)
    registry.BASELINE.name: dict(
        enc_hidden=96,
        dec_hidden=256,
        dec_layers=1,
        z_dims={"z": 128},
        free_bits={"z": 384.0},
        **AUGMENT,
        delete_lane=0.25,
    ),
    registry.FACTORIZED.name: FACTORIZED,
    # The auxiliary score decoder reads the score latent without shaping it (shaping it flattened the
    # loop decoder's hit loss at twice the factorized model's); lane deletion at 0.5 (at 0.25 its own
    # leak stayed at 3.5 %).
    registry.AGVAE2.name: dict(FACTORIZED, delete_lane=0.5, aux_detach=("score",)),
    registry.AGVAE11.name: dict(
        mlp_hidden=256,
        lane_hidden=256,
        lanes_shared=True,
        dec_hidden=256,
        dec_layers=1,
        z_dims={"lanes": 32, "groove": 32, "accents": 8},
        free_bits={"lanes": 96.0, "groove": 128.0, "accents": 32.0},
        **DRAWN,
    ),
}
ANNEAL_EPOCHS = 3  # beta rises linearly from 0 to max_beta over the first epochs
# ``--select hits`` (docs/ablation.md, "Selecting on the hits"): the epoch with the lowest validation
# hit loss, then the values' distribution head alone trains on (``train_head``). It lowers the hit loss
# but not humanize's hit F1, so the shipped models are selected on the whole loss.
HEAD_EPOCHS, HEAD_PATIENCE = 30, 3
# ``--select recon``: the objective without its KL penalty. The baseline's single latent sits at its
# allowance, where its KL moves up and down from epoch to epoch; the penalty made its validation loss
# jump (6.5 -> 8.1 between epochs that reconstruct alike) and stopped it early (docs/ablation.md,
# "The baseline's timing").
SELECT = ("loss", "hits", "recon")


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def humanize(
    model: DrumVAE,
    score,
    samples: int = 5,
    seed: int = 0,
    groove=None,
    prior: FittedPrior | None = None,
    bank: BankRows | None = None,
):
    """Humanize scores (B, 32, 9) ``samples`` times: encoded score latents (and groove latents, when
    grooves (B, 32, 3) are given), the rest from the N(0, I) prior, from a fitted ``prior`` conditioned
    on the encoded latents (``prior_draws``), or from a ``bank`` row among those whose rhythm is like
    the score's, as the engine draws them (``latent_source=bank``). Returns loops (samples, B, 32, 27)."""
    g = torch.Generator().manual_seed(seed)
    n = score.shape[0]
    like = bank.neighbours(score.numpy() > 0.5) if bank is not None and groove is None else None
    gest = {
        "score": score,
        "lanes": score.transpose(1, 2),
        "groove": torch.zeros(n, 32, 3) if groove is None else groove,
        "accents": torch.zeros(n, 32),
    }
    encoded = SCORE_SIDE if groove is None else (*SCORE_SIDE, "groove")
    post = model.encode(gest)
    given = {lat.name: post[lat.name][0] for lat in model.latents if lat.gesture in encoded}
    outs = []
    for _ in range(samples):
        zs = {}
        for lat in model.latents:
            mu, sigma = post[lat.name]
            eps = torch.randn(mu.shape, generator=g)
            zs[lat.name] = mu + sigma * eps if lat.gesture in encoded else eps
        if like is not None:
            pick = torch.rand(n, generator=g).numpy()
            rows = [c[int(u * len(c))] for c, u in zip(like, pick)]
            drawn = model.split(torch.from_numpy(bank.z[rows]))
            zs.update({name: z for name, z in drawn.items() if name not in given})
        elif prior is not None and len(given) < len(model.latents):
            zs.update(prior_draws(model, prior, given, g))
        u = torch.rand(n, 32, model.uniform_width, generator=g)
        outs.append(model.sample(model.join(zs), u, torch.tensor(1.0)))
    return torch.stack(outs)


def prior_draws(model: DrumVAE, prior: FittedPrior, given: dict, gen: torch.Generator) -> dict:
    """The latents missing from ``given`` ({name: codes (B, dim)}) drawn from a fitted prior, conditioned
    on the given codes, as the engine draws them (``latent_source=fitted``)."""
    n = len(next(iter(given.values())))
    x, observed, start = np.zeros((n, prior.size)), np.zeros(prior.size, bool), 0
    for lat in model.latents:
        if lat.name in given:
            x[:, start : start + lat.size] = given[lat.name].numpy()
            observed[start : start + lat.size] = True
        start += lat.size
    uniforms = torch.rand(n, generator=gen).numpy()
    eps = torch.randn(n, prior.size, generator=gen, dtype=torch.float64).numpy()
    drawn = torch.from_numpy(prior.sample(x, observed, uniforms, eps).astype(np.float32))
    return {name: z for name, z in model.split(drawn).items() if name not in given}


def humanize_checks(model: DrumVAE, val: data.WindowSet, n: int = 512) -> dict:
    """Hit F1 of humanized loops against the input score; mean std of offsets over 5 samples."""
    model.eval()
    score = val.gestures["score"][:n]
    out = humanize(model, score).numpy()
    hits = out[..., :N_DRUMS] > 0.5
    ref = np.broadcast_to(score.numpy() > 0.5, hits.shape)
    tp = (hits & ref).sum()
    f1 = 2 * tp / max(hits.sum() + ref.sum(), 1)
    offsets = out[..., 2 * N_DRUMS :]
    spread = offsets.std(axis=0).mean(axis=(1, 2)).mean()
    return {"humanize_hit_f1": float(f1), "humanize_offset_spread": float(spread), "windows": int(len(score))}


BANK_SIZE = 4096


@dataclass
class BankRows:
    """A latent bank (``latent_bank``'s codes ``z`` and each row's steps and hits) as the engine reads
    one to find the rows like a score (``engine.bank_neighbours``)."""

    z: np.ndarray
    bank_steps: np.ndarray
    bank_hits: np.ndarray | None
    bank_groups: np.ndarray | None

    @classmethod
    def of(cls, bank: dict) -> BankRows:
        hits = None if bank.get("hits") is None else np.asarray(bank["hits"], bool)
        groups = None if hits is None else lane_groups(hits)
        return cls(np.asarray(bank["z"], np.float32), np.asarray(bank["steps"], np.float32), hits, groups)

    def arrays(self) -> dict:
        """The bank as ``latent_bank`` returns it (what a model folder's bank.npz holds)."""
        out = {"z": self.z.astype(np.float16), "steps": self.bank_steps > 0.5}
        return out if self.bank_hits is None else out | {"hits": self.bank_hits}

    def neighbours(self, scores: np.ndarray) -> list[np.ndarray]:
        """Per score (B, 32, 9) of 0 / 1, the rows to draw its missing latents from."""
        known = np.ones(N_DRUMS, bool)
        return [bank_neighbours(self, s.any(axis=1), s, known) for s in scores]


@torch.no_grad()
def latent_bank(model: DrumVAE, windows: data.WindowSet, size: int = BANK_SIZE, seed: int = 0) -> dict:
    """Real drummers' codes, from which the engine draws the latents of gestures that are not given
    (its default source): posterior means ``z`` (size, z) of randomly chosen training windows, with
    what each plays, to find the codes of windows like a request's: ``steps`` (size, 32), the steps
    played, and ``hits`` (size, 32, 9), the score."""
    model.eval()
    idx = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))[:size]
    post = model.encode({k: v[idx] for k, v in windows.gestures.items()})
    z = model.join({name: mu for name, (mu, _) in post.items()}).numpy()
    return {
        "z": z.astype(np.float16),
        "steps": windows.gestures["groove"][idx, :, 0].numpy() > 0.5,
        "hits": windows.gestures["score"][idx].numpy() > 0.5,
    }


def evaluate(model: DrumVAE, ds: data.WindowSet, beta: float, batch_size: int = 1024) -> dict:
    model.eval()
    sums, n = {}, 0
    with torch.no_grad():
        for gest, target in ds.batches(batch_size):
            post, raw, aux = model(gest, target, sample=False)
            _, terms = total_loss(model, post, raw, aux, gest, target, beta)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v * len(target)
            n += len(target)
    return {k: v / n for k, v in sums.items()}


def _plot(history: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ep = [h["epoch"] for h in history]
    ax.plot(ep, [h["train_loss"] for h in history], label="train")
    ax.plot(ep, [h["val_loss"] for h in history], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (nats / loop)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train(
    kind: str,
    gmd,
    out: Path,
    *,
    epochs=40,
    batch_size=256,
    lr=1e-3,
    patience=6,
    seed=0,
    device="cpu",
    threads=0,
    limit=0,
    resume=False,
    cache_dir=None,
    max_minutes=0.0,
    select="loss",
    progress=True,
    **sizes,
) -> dict:
    """Train one model; returns the run summary (also written to out/summary.json).

    ``select``: the validation term that picks the checkpoint and stops training early: "loss" (the
    whole objective), "hits" (hit loss; then a values' distribution head alone trains on, see
    ``train_head``) or "recon" (the objective without its KL penalty). ``sizes``: ModelConfig fields
    that override the kind's DEFAULT_SIZES."""
    if select not in SELECT:
        raise BeatGuideError(f"select must be one of {', '.join(SELECT)}, got {select!r}")
    if threads:
        torch.set_num_threads(threads)
    seed_all(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train_set, val_set = load_splits(gmd, cache_dir, limit)
    run = start_run(kind, sizes, lr, seed, device)
    if resume:
        resume_run(run, out / LAST_FILE)
    for epoch in range(run.epoch + 1, epochs + 1):
        if run.bad >= patience or (max_minutes and run.wall > max_minutes * 60):
            break  # early stopping, or the time limit
        t0 = time.perf_counter()
        train_loss = train_epoch(run, train_set, batch_size, device, epoch, epochs, progress)
        val = validate(run, val_set, select)
        improved = record_epoch(run, out, epoch, train_loss, val, select, time.perf_counter() - t0)
        report_epoch(run, val, improved)
    best, head = select_best(run, out, train_set, val_set, select, batch_size, lr, progress)
    settings = dict(select=select, seed=seed, batch_size=batch_size, lr=lr, hw=hardware(device, threads))
    summary = summarize(run, best, head, train_set, val_set, **settings)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    np.savez_compressed(out / BANK_FILE, **latent_bank(run.model, train_set, seed=seed))
    return summary


@dataclass
class Run:
    """A training run's state: the model, its optimiser and learning-rate schedule, the generator of
    the batch order, and the progress so far (what last.pt keeps for ``--resume``)."""

    model: DrumVAE
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.ReduceLROnPlateau
    gen: torch.Generator
    history: list[dict] = field(default_factory=list)  # one row per epoch: the learning curve
    epoch: int = 0  # epochs done
    best: float = float("inf")  # the selected validation term at the best epoch
    bad: int = 0  # epochs since the best one
    wall: float = 0.0  # seconds of training so far


def load_splits(gmd, cache_dir=None, limit: int = 0) -> tuple[data.WindowSet, data.WindowSet]:
    """The training and validation windows; ``limit`` (quick runs) keeps the first ``limit`` training
    windows and a quarter as many validation windows."""
    train_set = data.load(gmd, "train", cache_dir, limit)
    return train_set, data.load(gmd, "validation", cache_dir, limit // 4 if limit else 0)


def start_run(kind: str, sizes: dict, lr: float, seed: int, device: str) -> Run:
    """A new run: the kind's model (DEFAULT_SIZES, then ``sizes``), Adam, and a learning rate halved
    after two epochs without improvement."""
    config = ModelConfig(kind=kind, **{**DEFAULT_SIZES[kind], **sizes})
    model = DrumVAE(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    return Run(model, opt, sched, torch.Generator().manual_seed(seed))


def resume_run(run: Run, last: Path) -> None:
    """Continue ``run`` from ``last`` (last.pt, as ``save_last`` writes it) as if it had never stopped."""
    if not last.is_file():
        raise BeatGuideError(f"{last}: nothing to resume")
    ck = torch.load(last, weights_only=False)
    run.model.load_state_dict(ck["model"])
    run.opt.load_state_dict(ck["opt"])
    run.sched.load_state_dict(ck["sched"])
    run.history, run.best, run.bad, run.wall, run.epoch = ck["history"], ck["best"], ck["bad"], ck["wall"], ck["epoch"]
    run.gen.set_state(ck["gen"])
    torch.set_rng_state(ck["rng"])


def save_last(run: Run, last: Path) -> None:
    """Write last.pt: everything ``resume_run`` needs, random states included."""
    torch.save(
        {
            "config": run.model.config.to_dict(),
            "model": run.model.state_dict(),
            "opt": run.opt.state_dict(),
            "sched": run.sched.state_dict(),
            "history": run.history,
            "best": run.best,
            "bad": run.bad,
            "wall": run.wall,
            "epoch": run.epoch,
            "gen": run.gen.get_state(),
            "rng": torch.get_rng_state(),
        },
        last,
    )


def train_epoch(
    run: Run, train_set: data.WindowSet, batch_size: int, device: str, epoch: int, epochs: int, progress: bool
) -> float:
    """Epoch ``epoch`` (of ``epochs``): one pass over the training windows in a new random order; returns
    the mean training loss."""
    run.model.train()
    steps = (len(train_set) + batch_size - 1) // batch_size
    total, count = 0.0, 0
    bar = tqdm(total=steps, desc=f"{run.model.config.kind} {epoch}/{epochs}", disable=not progress, leave=False)
    for i, (gest, target) in enumerate(train_set.batches(batch_size, run.gen)):
        beta = kl_weight(run.model.config, (epoch - 1) + i / steps)
        terms = train_step(run, gest, target, beta, device)
        total += terms["loss"] * len(target)
        count += len(target)
        bar.set_postfix(
            hits=f"{terms['hits']:.1f}",
            vel=f"{terms['velocity']:.2f}",
            off=f"{terms['offset']:.2f}",
            kl=f"{terms['kl']:.0f}",
            beta=f"{beta:.2f}",
        )
        bar.update()
    bar.close()
    return total / count


def kl_weight(config: ModelConfig, epochs_done: float) -> float:
    """Beta, the KL penalty's weight, after ``epochs_done`` (fractional) epochs: it rises linearly from 0
    to max_beta over the first ANNEAL_EPOCHS (KL annealing: the latents start to carry the loop before
    the penalty pulls them toward the prior)."""
    return config.max_beta * min(1.0, epochs_done / ANNEAL_EPOCHS)


def train_step(run: Run, gest: dict, target, beta: float, device: str) -> dict:
    """One optimiser step on a batch, with the config's training-time augmentations (lane deletion,
    swapped groove codes); gradients clipped to norm 1 per ``gradient_groups``. Returns the loss terms."""
    model, config = run.model, run.model.config
    if config.delete_lane > 0:
        gest, target = data.delete_lanes(gest, target, config.delete_lane)
    swap = model.random_swap(len(target)) if config.swap_groove > 0 else None
    post, raw, aux = model({k: v.to(device) for k, v in gest.items()}, target.to(device), swap=swap)
    loss, terms = total_loss(model, post, raw, aux, gest, target, beta, None if swap is None else ~swap[0])
    run.opt.zero_grad()
    loss.backward()
    for group in model.gradient_groups():
        torch.nn.utils.clip_grad_norm_(group, 1.0)
    run.opt.step()
    return terms


def validate(run: Run, val_set: data.WindowSet, select: str) -> dict:
    """The validation terms (posterior means, full beta); the schedule halves the learning rate when the
    selected term stalls."""
    val = evaluate(run.model, val_set, run.model.config.max_beta)
    run.sched.step(val[select])
    return val


def record_epoch(run: Run, out: Path, epoch: int, train_loss: float, val: dict, select: str, seconds: float) -> bool:
    """Log the epoch (history, learning_curve.csv / .png) and checkpoint it: best.pt when the selected
    validation term improved, last.pt always. Returns whether it improved."""
    run.wall += seconds
    run.epoch = epoch
    run.history.append(
        {
            "epoch": epoch,
            "seconds": round(run.wall, 1),
            "train_loss": train_loss,
            **{f"val_{k}": v for k, v in val.items()},
        }
    )
    improved = val[select] < run.best
    if improved:
        run.best, run.bad = val[select], 0
        torch.save(
            {"config": run.model.config.to_dict(), "model": run.model.state_dict(), "epoch": epoch, "val": val},
            out / BEST_FILE,
        )
    else:
        run.bad += 1
    save_last(run, out / LAST_FILE)
    _write_curve(run.history, out, run.model.config.kind)
    return improved


def report_epoch(run: Run, val: dict, improved: bool) -> None:
    """One line per epoch: training and validation loss, the validation terms, a star when it improved."""
    row = run.history[-1]
    tqdm.write(
        f"{run.model.config.kind} epoch {run.epoch}: train {row['train_loss']:.2f}  val {val['loss']:.2f} "
        f"(hits {val['hits']:.2f} vel {val['velocity']:.2f} off {val['offset']:.2f} kl {val['kl']:.1f})"
        f"  {'*' if improved else ''} {run.wall / 60:.1f} min"
    )


def select_best(
    run: Run, out: Path, train_set, val_set, select: str, batch_size: int, lr: float, progress: bool
) -> tuple[dict, list[dict]]:
    """Load the selected checkpoint (best.pt) into the model; with ``select`` "hits" the values' head then
    trains alone (``train_head``) and best.pt is rewritten. Returns the checkpoint and the head's rows."""
    best = torch.load(out / BEST_FILE, weights_only=False)
    run.model.load_state_dict(best["model"])
    head = []
    if select == "hits" and run.model.decoder.dist is not None:
        head = train_head(run.model, train_set, val_set, batch_size=batch_size, lr=lr, gen=run.gen, progress=progress)
        best["val"] = evaluate(run.model, val_set, run.model.config.max_beta)
        torch.save({**best, "model": run.model.state_dict(), "val": best["val"]}, out / BEST_FILE)
        run.wall += sum(r["seconds"] for r in head)
    return best, head


def summarize(
    run: Run,
    best: dict,
    head: list[dict],
    train_set,
    val_set,
    *,
    select: str,
    seed: int,
    batch_size: int,
    lr: float,
    hw: str,
) -> dict:
    """The run summary (summary.json, and model.json's "training" once exported): the selected checkpoint's
    validation terms and humanize's checks, with what it took to get there."""
    model = run.model
    return {
        "model": model.config.kind,
        "parameters": sum(p.numel() for p in model.parameters()),
        "config": model.config.to_dict(),
        "best_epoch": best["epoch"],
        "epochs_run": len(run.history),
        "selected_on": select,
        "head_epochs": [{k: round(v, 4) for k, v in r.items()} for r in head],
        "train_seconds": round(run.wall, 1),
        "train_windows": len(train_set),
        "validation_windows": len(val_set),
        "validation": best["val"],
        "hardware": hw,
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        **humanize_checks(model, val_set),
    }


def train_head(
    model: DrumVAE,
    train_set,
    val_set,
    *,
    batch_size: int,
    lr: float,
    gen,
    progress: bool = True,
    epochs: int = HEAD_EPOCHS,
) -> list[dict]:
    """Train the values' distribution head alone (a history decoder: its level head alone; everything
    else frozen, in evaluation mode) on the played notes' likelihood, early-stopped on the validation
    likelihood; keeps the best head. It reads the decoder state with its gradient stopped, so the hits
    stay exactly as selected. Returns one row per epoch (validation value_spread, seconds)."""
    module = model.decoder.level if model.decoder.history else model.decoder.dist
    head = list(module.parameters())
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    for p in head:
        p.requires_grad_(True)
    opt = torch.optim.Adam(head, lr=lr)
    best, bad = evaluate(model, val_set, model.config.max_beta)["value_spread"], 0
    best_state, rows = {k: v.clone() for k, v in module.state_dict().items()}, []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.eval()
        for gest, target in tqdm(
            train_set.batches(batch_size, gen), desc=f"head {epoch}", disable=not progress, leave=False
        ):
            _, raw, _ = model(gest, target)
            loss = loop_terms(raw, target, model.config.values, censored=model.config.censored)["value_spread"]
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(head, 1.0)
            opt.step()
        val = evaluate(model, val_set, model.config.max_beta)["value_spread"]
        rows.append({"epoch": epoch, "val_value_spread": val, "seconds": time.perf_counter() - t0})
        tqdm.write(f"head epoch {epoch}: val value_spread {val:.2f} {'*' if val < best else ''}")
        if val < best:
            best, bad, best_state = val, 0, {k: v.clone() for k, v in module.state_dict().items()}
        else:
            bad += 1
            if bad >= HEAD_PATIENCE:
                break
    module.load_state_dict(best_state)
    for p in frozen:
        p.requires_grad_(True)
    return rows


def _write_curve(history: list[dict], out: Path, kind: str) -> None:
    with open(out / "learning_curve.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(history[-1]))
        w.writeheader()
        w.writerows(history)
    _plot(history, out / "learning_curve.png", kind)


def hardware(device: str, threads: int) -> str:
    """What trained it (summary "hardware"): processor, device, torch threads."""
    return f"{platform.processor() or platform.machine()}, {device}, torch threads {threads or torch.get_num_threads()}"


def train_cli(args) -> int:
    summary = train(
        args.model,
        args.gmd,
        args.out or Path("runs") / args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        limit=args.limit,
        resume=args.resume,
        cache_dir=args.cache_dir,
        max_minutes=args.max_minutes,
        select=args.select,
    )
    print(
        json.dumps(
            {
                k: summary[k]
                for k in (
                    "model",
                    "parameters",
                    "best_epoch",
                    "train_seconds",
                    "humanize_hit_f1",
                    "humanize_offset_spread",
                )
            },
            indent=2,
        )
    )
    return 0
