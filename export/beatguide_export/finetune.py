"""Fine-tune a model on a producer's own drum MIDI (``beatguide finetune``).

Every MIDI file under a folder is cut into 2-bar windows (as ``data build`` cuts the Groove MIDI
Dataset); whole files are held out for validation; training starts from the model's exported
weights, with early stopping, a time limit and Ctrl-C keeping the best weights so far; the result
is exported like a shipped model into the per-user models folder, with a model card naming the base
model, the data (file and window counts, never file names) and the before / after numbers.

``finetune`` runs those steps in order: ``load_base``, ``read_producer_data``, ``Split.of``,
``_choose_prior``, ``_choose_bank``, ``finetune_model`` (the training loop: ``finetune_step`` per batch, validation
per round), ``_summary`` and ``_export``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from beatguide.drums import INPUT_MAPS, N_CLASSES, DrumMap
from beatguide.errors import BeatGuideError, DataError, InputError, ModelError, OutputError, UnknownModelError
from beatguide.evaluate.experiments import realism
from beatguide.evaluate.metrics import hit_prf
from beatguide.fitted_prior import FittedPrior
from beatguide.gmd import note_windows
from beatguide.grid import BEATS_PER_BAR
from beatguide.midi_io import drum_notes, read_midi
from beatguide.model_paths import NAME_PATTERN, bundled_models_dir, model_dirs, user_models_dir
from beatguide.registry import SCORE_SIDE

from .data import WindowSet
from .losses import total_loss
from .model_card import write_card
from .models import N_DRUMS, WIDTH, DrumVAE
from .onnx_export import export_model, install, load_exported, staging
from .prior_fit import attach
from .train import BANK_SIZE, BankRows, evaluate, hardware, humanize, latent_bank, prior_draws, seed_all

MIN_WINDOWS = 16
LR = 1e-4
VALIDATION_SHARE = 0.2
ROUND_STEPS = 16  # a round (steps between validations) is one pass over the data, at least this many steps
MIDI_SUFFIXES = (".mid", ".midi")
HUMANIZE_WINDOWS = 512  # held-out windows humanized for the before / after numbers
PRIOR_SHARE = 0.5  # share of training loops whose groove-side latents are prior draws (see finetune_step)
TRAINED_PARTS = ("decoder.", "plan.", "aux.")  # parameter name prefixes fine-tuned: the decoder side
L2SP = 0.0  # weight of the pull toward the starting weights (finetune_step)
FIT_PRIOR = "if-closer"  # move the prior toward your codes before training (_choose_prior): FIT_PRIOR_CHOICES
PRIOR_STRENGTH = 1.0  # how far a folded prior moves from the standard normal to your codes (groove_prior)
FIT_PRIOR_CHOICES = ("no", "yes", "if-closer")  # never, always, if the held-out files come closer
MAX_F1_DROP = 0.02  # a round only counts as better if the humanized hit F1 stays within this of the base's
BANK_FOLDS = 5  # groups of files held out in turn to judge a bank of your codes (_choose_bank)


@dataclass
class MidiWindows:
    """2-bar windows read from a producer's files: ``loops`` (N, 32, 27), ``file_index`` (N,) into
    ``files`` (the files used), one line per file skipped saying why, and counts of notes left out."""

    loops: np.ndarray
    file_index: np.ndarray
    files: list[Path]
    skipped: list[str] = field(default_factory=list)
    left_out: Counter = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.loops)


def midi_files(folder) -> list[Path]:
    """The MIDI files under a folder (sub-folders included, hidden ones left out), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in MIDI_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def read_windows(files, drum_map: DrumMap) -> MidiWindows:
    """Cut every file into 2-bar windows with a 1-bar hop (any tempo: the grid is in beats). A file
    is skipped, with the reason, when it is unreadable, not in 4/4, or holds no drum notes; notes on
    other channels than 10 (when the file uses channel 10) and pitches outside the map are left out."""
    loops, index, used, skipped, left_out = [], [], [], [], Counter()
    for path in files:
        try:
            content = read_midi(path)  # raises for unreadable files, time signatures other than 4/4, no notes
            notes = drum_notes(content)
            known = [n for n in notes if drum_map.class_of(n.pitch) is not None]
            if not known:
                raise DataError(f"{path}: no drum notes (no pitch the input map reads as a drum)")
            windows = note_windows(known, int(known[-1].start // BEATS_PER_BAR) + 1, drum_map)
        except BeatGuideError as e:
            skipped.append(str(e))
            continue
        left_out["on channels other than 10"] += len(content.notes) - len(notes)
        left_out["with pitches the input map does not read"] += len(notes) - len(known)
        for _, loop in windows:
            loops.append(loop)
            index.append(len(used))
        used.append(Path(path))
    arr = np.stack(loops) if loops else np.zeros((0, 32, 3 * N_CLASSES), np.float32)
    return MidiWindows(arr, np.array(index, np.int64), used, skipped, +left_out)


def _files(n: int) -> str:
    return f"{n} file{'s' * (n != 1)}"


def describe(data: MidiWindows, found: int) -> str:
    """What was read: files used and windows, files skipped and why, notes left out."""
    lines = [
        f"read {found} MIDI file{'s' * (found != 1)}: {len(data.files)} used "
        f"({len(data)} two-bar windows), {len(data.skipped)} skipped"
    ]
    lines += [f"  skipped {line}" for line in data.skipped]
    lines += [f"  left out {n} note{'s' * (n != 1)} {why}" for why, n in data.left_out.items()]
    return "\n".join(lines)


def split_by_file(file_index: np.ndarray, share: float = VALIDATION_SHARE, seed: int = 0):
    """(training, validation) window indices. Whole files are held out: files in a seeded random
    order, each taken while the held-out windows stay within twice ``share`` of all, else the smallest
    file; at least one file is left to train on. A single file has its last windows held out (the
    window before them dropped: windows overlap by a bar)."""
    n = len(file_index)
    want = max(1, round(share * n))
    files = np.unique(file_index)
    if len(files) == 1:
        return np.arange(max(0, n - want - 1)), np.arange(n - want, n)
    counts = np.bincount(file_index)
    held, total = [], 0
    for f in np.random.default_rng(seed).permutation(files)[:-1]:
        if total < want and total + counts[f] <= 2 * want:
            held.append(f)
            total += counts[f]
    if not held:
        held = [files[np.argmin(counts[files])]]
    val = np.isin(file_index, held)
    return np.flatnonzero(~val), np.flatnonzero(val)


@torch.no_grad()
def held_out_numbers(
    model: DrumVAE, val: WindowSet, seed: int = 0, prior: FittedPrior | None = None, bank: BankRows | None = None
) -> dict:
    """How the model does on held-out windows: the validation loss (posterior mean, per loop), and
    their scores humanized 5 times, groove latent from the N(0, I) prior, the fitted ``prior`` or the
    ``bank`` (its default where it ships one), as the model will ship (hit F1 against the scores, offset /
    velocity Wasserstein distance to the held-out playing, offset spread) and with their own groove
    given (``groove_`` distances). Distances are per drum, averaged with the drums' real hit counts as
    weights, so a drum played a few times does not swing them."""
    terms = evaluate(model, val, model.config.max_beta)
    score, groove = val.gestures["score"][:HUMANIZE_WINDOWS], val.gestures["groove"][:HUMANIZE_WINDOWS]
    real = val.loops[:HUMANIZE_WINDOWS].numpy()
    weights = score.numpy().sum(axis=(0, 1))
    gen = humanize(model, score, seed=seed, prior=prior, bank=bank).numpy()  # (5, B, 32, 27)
    w = realism(gen, real)
    followed = realism(humanize(model, score, seed=seed, groove=groove).numpy(), real)
    hits = gen[..., :N_CLASSES]
    return {
        "loss": terms["loss"],
        "hits": terms["hits"],
        "velocity": terms["velocity"],
        "offset": terms["offset"],
        "hit_f1": hit_prf(hits, np.broadcast_to(score.numpy(), hits.shape))[2],
        **{f"{k}_w": _weighted(w[k], weights) for k in ("offset", "velocity")},
        **{f"groove_{k}_w": _weighted(followed[k], weights) for k in ("offset", "velocity")},
        "offset_spread": float(gen[..., 2 * N_CLASSES :].std(axis=0).mean()),
        "windows": len(score),
    }


def distance(numbers: dict) -> float:
    """How far humanizing a bare score (groove latent from the model's prior) is from the held-out playing:
    offset + velocity Wasserstein. (Following a given groove is reported, not optimised: weighing it
    in stopped every fine-tune in its first rounds, as any change on a few songs costs some of it.)"""
    return numbers["offset_w"] + numbers["velocity_w"]


def _weighted(values, weights) -> float:
    v = np.asarray(values, float)
    ok = np.isfinite(v) & (weights > 0)
    return float((v[ok] * weights[ok]).sum() / weights[ok].sum())


@torch.no_grad()
def groove_prior(model: DrumVAE, ds: WindowSet, strength: float = 1.0) -> dict:
    """{groove-side latent: (mean, std)} per dimension of its aggregate posterior over the windows
    (the mixture of their posteriors): where this drummer's grooves lie in the base model's code space.
    ``strength`` < 1 moves it back toward the standard normal: mean * strength, std ** strength."""
    post = model.eval().encode(ds.gestures)
    out = {}
    for lat in model.latents:
        if lat.gesture not in SCORE_SIDE:
            mu, sigma = post[lat.name]
            std = (mu.var(0, unbiased=False) + (sigma**2).mean(0)).sqrt()
            out[lat.name] = (strength * mu.mean(0), std**strength)
    return out


@torch.no_grad()
def fold_prior(model: DrumVAE, prior: dict) -> None:
    """Make the model's standard-normal prior mean ``prior`` ({latent: (mean, std)}, as from
    ``groove_prior``) without changing what it does with a given groove: with z = mean + std * u, the
    encoder is rewritten to give u (mean exactly; the softplus standard deviation by a bias shift, exact
    for small deviations) and every layer reading z to read u. A prior draw of u then decodes as a draw
    of z from the drummer's codes."""
    start = 0
    for lat in model.latents:
        if lat.name in prior:
            m, s = prior[lat.name]
            enc = model.encoders[lat.name]
            if hasattr(enc, "head"):  # LSTM encoder: Gaussian head
                enc.head.mu.weight.div_(s[:, None])
                enc.head.mu.bias.sub_(m).div_(s)
                enc.head.sigma.bias.sub_(s.log())
            else:  # MLP encoder, one group: outputs [mean, pre-softplus std]
                enc.w2[..., : enc.z].div_(s)
                enc.b2[..., : enc.z].sub_(m).div_(s)
                enc.b2[..., enc.z :].sub_(s.log())
            dec = model.decoder
            for w, b, first in (
                (dec.init.weight, dec.init.bias, start),
                (dec.rnn.weight_ih_l0, dec.rnn.bias_ih_l0, WIDTH + start),
            ):
                b.add_(w[:, first : first + lat.size] @ m)
                w[:, first : first + lat.size].mul_(s)
            readers = [(model.plan, start)] if model.plan is not None else []
            readers += [(model.aux[lat.name], 0)] if lat.name in model.aux else []
            for mlp, first in readers:
                mlp.b1.add_(m @ mlp.w1[0, first : first + lat.size])
                mlp.w1[0, first : first + lat.size].mul_(s[:, None])
        start += lat.size


def finetune_step(
    model: DrumVAE,
    opt,
    gest: dict,
    target,
    prior_share: float = PRIOR_SHARE,
    anchor: dict | None = None,
    l2sp: float = 0.0,
    prior: FittedPrior | None = None,
) -> dict:
    """One optimiser step (gradients clipped to norm 1); returns the loss terms.

    As in training, except that for ``prior_share`` of the loops the groove-side latents (those that
    humanize draws from the prior when no groove is given) are replaced by prior draws before decoding
    (N(0, I), or the fitted ``prior``'s given the score side's codes), so the decoder learns what this
    drummer plays from a score alone; plain fine-tuning leaves prior draws decoding to the base model's
    feel. The auxiliary decoders still learn from the posterior.
    ``l2sp``: weight of a penalty l2sp / 2 * |w - anchor|^2 pulling the weights toward ``anchor``
    ({name: tensor}: the starting weights; L2-SP, Li et al. 2018)."""
    model.train()
    post = model.encode(gest)
    score_side = {lat.name: post[lat.name][0].detach() for lat in model.latents if lat.gesture in SCORE_SIDE}
    drawn = (
        prior_draws(model, prior, score_side, None)
        if prior is not None and score_side and len(score_side) < len(model.latents)
        else {}
    )
    sampled, decoded = {}, {}
    for lat in model.latents:
        mu, sigma = post[lat.name]
        sampled[lat.name] = z = mu + sigma * torch.randn_like(mu)
        if lat.gesture not in SCORE_SIDE:
            draw = drawn[lat.name] if lat.name in drawn else torch.randn_like(z)
            z = torch.where(torch.rand(len(z), 1) < prior_share, draw, z)
        decoded[lat.name] = z
    z = model.join(decoded)
    hit_control = (
        model.random_hit_control(target) if model.config.force_lanes > 0 else -torch.ones_like(target[..., :N_DRUMS])
    )
    raw = model.decoder.teacher_forced(z, model.controls(z, model.reconstruct(decoded), hit_control), target)
    loss, terms = total_loss(model, post, raw, model.reconstruct(sampled), gest, target, model.config.max_beta)
    if l2sp:
        loss = loss + l2sp / 2 * sum(((p - anchor[n]) ** 2).sum() for n, p in model.named_parameters() if n in anchor)
    opt.zero_grad()
    loss.backward()
    for group in model.gradient_groups():  # the logistic values' head clipped on its own, as in training
        torch.nn.utils.clip_grad_norm_(group, 1.0)
    opt.step()
    return terms


def finetune_model(
    model: DrumVAE,
    train_set: WindowSet,
    val_set: WindowSet,
    *,
    minutes: float,
    lr: float = LR,
    batch_size: int = 64,
    patience: int = 20,
    max_steps: int = 0,
    prior_share: float = PRIOR_SHARE,
    l2sp: float = L2SP,
    parts=TRAINED_PARTS,
    prior: FittedPrior | None = None,
    bank: BankRows | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Fine-tune ``model`` in place, checking it on ``val_set`` every round; it ends with the weights
    that came closest to the held-out playing (``distance``, humanizing as it will ship: groove latents
    from the ``bank`` of your training windows' codes, else the ``prior``; hit F1 kept within
    MAX_F1_DROP of the start), the starting weights if no round did better.
    Stops on early stopping (``patience`` rounds without improvement), the time limit, ``max_steps``
    (0: none) or Ctrl-C. Only parameters whose names start with one of ``parts`` are trained; never
    the encoders: fine-tuning them on a few songs made the model read new grooves worse, and the codes
    in the bank and the ones new inputs get stay comparable. Returns the run: rounds, steps, best
    round, why it stopped, seconds, batch size and one row per round."""
    trained = {n: p for n, p in model.named_parameters() if n.startswith(tuple(parts))}
    if not trained or any(n.startswith("encoders.") for n in trained):
        raise InputError(f"parts {parts}: name some of the decoder side's parameters ({', '.join(TRAINED_PARTS)})")
    opt = torch.optim.Adam(trained.values(), lr=lr)
    anchor = {n: p.detach().clone() for n, p in trained.items()}
    batch_size = min(batch_size, len(train_set))
    batches = _endless(train_set, batch_size, torch.Generator().manual_seed(seed))
    round_steps = max(ROUND_STEPS, math.ceil(len(train_set) / batch_size))
    start = held_out_numbers(model, val_set, seed, prior, bank)
    best, min_f1 = distance(start), start["hit_f1"] - MAX_F1_DROP
    best_state, best_round, bad, steps, history = copy.deepcopy(model.state_dict()), 0, 0, 0, []
    limit = minutes * 60
    stopped = "early stopping"
    t0 = time.perf_counter()
    bar = tqdm(
        total=round(limit),
        unit="s",
        desc="fine-tuning",
        disable=not progress,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} s{postfix}",
    )
    try:
        while bad < patience:
            sums, count = Counter(), 0
            for _ in range(round_steps):
                if time.perf_counter() - t0 > limit:
                    stopped = "time limit"
                    break
                if max_steps and steps >= max_steps:
                    stopped = "step limit"
                    break
                gest, target = next(batches)
                sums.update(
                    {
                        k: v * len(target)
                        for k, v in finetune_step(model, opt, gest, target, prior_share, anchor, l2sp, prior).items()
                    }
                )
                count += len(target)
                steps += 1
                bar.update(min(round(time.perf_counter() - t0), bar.total) - bar.n)
            if count:
                val = held_out_numbers(model, val_set, seed, prior, bank)
                now = distance(val)
                history.append(
                    {
                        "round": len(history) + 1,
                        "steps": steps,
                        "seconds": round(time.perf_counter() - t0, 1),
                        "train_loss": sums["loss"] / count,
                        **val,
                    }
                )
                if now < best and val["hit_f1"] >= min_f1:
                    best, best_state, best_round, bad = now, copy.deepcopy(model.state_dict()), len(history), 0
                else:
                    bad += 1
                bar.set_postfix_str(f"round {len(history)}, distance to your playing {now:.3f} (best {best:.3f})")
            if stopped != "early stopping" or not count:
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
        tqdm.write("interrupted: keeping the best weights so far")
    finally:
        bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return {
        "rounds": len(history),
        "steps": steps,
        "best_round": best_round,
        "stopped": stopped,
        "seconds": round(time.perf_counter() - t0, 1),
        "batch_size": batch_size,
        "history": history,
        "start": start,
    }


def _choose_prior(
    model: DrumVAE,
    prior: FittedPrior | None,
    train_set: WindowSet,
    val_set: WindowSet,
    before: dict,
    seed: int,
    mode: str = FIT_PRIOR,
    strength: float = PRIOR_STRENGTH,
) -> tuple[FittedPrior | None, str]:
    """Move the model's prior toward the training windows' codes: never (``mode`` "no"), always ("yes"),
    or if that brings humanizing the held-out scores closer to their playing on offsets and on
    velocities, hit F1 kept within MAX_F1_DROP ("if-closer"). A fitted ``prior`` (the base's) is adapted
    to the codes (``FittedPrior.adapted``); without one, the groove codes are folded into the N(0, I)
    prior (``fold_prior``, which rewrites the model). Returns the prior to ship and what was done:
    "adapted", "folded" or "kept"."""
    if mode == "no":
        return prior, "kept"
    trial, candidate = (model, prior.adapted(_codes(model, train_set, seed))) if prior else (copy.deepcopy(model), None)
    if prior is None:
        fold_prior(trial, groove_prior(trial, train_set, strength))
    tried = held_out_numbers(trial, val_set, seed, candidate)
    keep = mode == "yes" or (
        tried["offset_w"] <= before["offset_w"]
        and tried["velocity_w"] <= before["velocity_w"]
        and tried["hit_f1"] >= before["hit_f1"] - MAX_F1_DROP
    )
    print(
        f"the {'fitted prior' if prior else 'prior'} moved toward your codes: offset Wasserstein "
        f"{before['offset_w']:.3f} -> {tried['offset_w']:.3f}, velocity Wasserstein {before['velocity_w']:.3f} -> "
        f"{tried['velocity_w']:.3f}: " + ("kept" if keep else "not kept")
    )
    if not keep:
        return prior, "kept"
    if prior is None:
        model.load_state_dict(trial.state_dict())
        return None, "folded"
    return candidate, "adapted"


def _choose_bank(
    model: DrumVAE,
    base_bank: BankRows | None,
    data: MidiWindows,
    split: Split,
    prior: FittedPrior | None,
    prior_action: str,
    seed: int,
) -> tuple[BankRows, str]:
    """The latent bank the model humanizes with, its default source: the codes of your windows ("yours")
    if, with every file held out in turn (BANK_FOLDS groups of files; a single file: the split), the
    held-out scores humanized with the other files' codes come at least as close to your playing as
    with the base's bank (offset + velocity Wasserstein over all folds, hit F1 within MAX_F1_DROP),
    else the base's ("base"). Yours where the base has none or its prior was folded (its codes then
    moved). Returns the bank of your *training* windows to choose rounds with (the shipped one holds
    every window; the encoders are not trained, so the codes stay what they are now), or the base's."""
    yours = BankRows.of(latent_bank(model, split.train, size=min(BANK_SIZE, len(split.train)), seed=seed))
    if base_bank is None or prior_action == "folded":
        return yours, "yours"
    files = np.random.default_rng(seed).permutation(np.unique(data.file_index))
    k = min(BANK_FOLDS, len(files))
    if k == 1:
        folds = [(split.train, split.validation)]
    else:
        held = [np.isin(data.file_index, files[f::k]) for f in range(k)]
        folds = [(WindowSet(data.loops[~h]), WindowSet(data.loops[h])) for h in held]
    sums = {"yours": Counter(), "base": Counter()}
    for rest, fold in folds:
        own = BankRows.of(latent_bank(model, rest, size=min(BANK_SIZE, len(rest)), seed=seed))
        for name, bank in (("yours", own), ("base", base_bank)):
            n = held_out_numbers(model, fold, seed, prior, bank)
            sums[name].update(
                {"distance": n["windows"] * distance(n), "hit_f1": n["windows"] * n["hit_f1"], "n": n["windows"]}
            )
    mean = {name: {key: c[key] / c["n"] for key in ("distance", "hit_f1")} for name, c in sums.items()}
    keep = (
        mean["yours"]["distance"] <= mean["base"]["distance"]
        and mean["yours"]["hit_f1"] >= mean["base"]["hit_f1"] - MAX_F1_DROP
    )
    print(
        "grooves from your own windows' codes instead of the base's bank, "
        + (f"{k} groups of files held out in turn" if k > 1 else "the file's last bars held out")
        + f": offset + velocity Wasserstein {mean['base']['distance']:.3f} -> "
        f"{mean['yours']['distance']:.3f}, hit F1 {mean['base']['hit_f1']:.3f} -> {mean['yours']['hit_f1']:.3f}: "
        + ("kept" if keep else "not kept")
    )
    return (yours, "yours") if keep else (base_bank, "base")


@torch.no_grad()
def _codes(model: DrumVAE, ds: WindowSet, seed: int) -> np.ndarray:
    """One posterior sample (N, z) per window, every gesture given (as prior_fit.codes, torch side)."""
    g = torch.Generator().manual_seed(seed)
    post = model.eval().encode(ds.gestures)
    return model.join({n: mu + sigma * torch.randn(mu.shape, generator=g) for n, (mu, sigma) in post.items()}).numpy()


def _endless(ds: WindowSet, batch_size: int, gen: torch.Generator):
    """Shuffled batches, pass after pass."""
    while True:
        yield from ds.batches(batch_size, gen)


@dataclass
class Base:
    """The model a fine-tune starts from: its name, model.json, torch model, fitted prior and latent
    bank (each None when it ships without one)."""

    name: str
    meta: dict
    model: DrumVAE
    prior: FittedPrior | None
    bank: BankRows | None = None

    def provenance(self) -> dict:
        """What the fine-tuned model's model.json says of its base."""
        return {
            "base": self.name,
            "base_exported": self.meta.get("exported"),
            "base_weights_sha256": self.meta["sha256"][self.meta["weights"]],
            "base_training": {k: self.meta.get("training", {}).get(k) for k in ("train_windows", "validation_windows")},
        }


def load_base(name: str, dirs) -> Base:
    """Model ``name`` from the first of the models folders ``dirs`` that holds it."""
    for d in dirs:
        folder = Path(d) / name
        if (folder / "model.json").is_file():
            model = load_exported(folder)
            meta = json.loads((folder / "model.json").read_text())
            prior = FittedPrior.from_file(folder / meta["prior"]) if meta.get("prior") else None
            return Base(name, meta, model, prior, _read_bank(folder, meta))
    raise UnknownModelError(f"no model {name!r} in {', '.join(map(str, dirs))}")


def _read_bank(folder: Path, meta: dict) -> BankRows | None:
    """The latent bank model.json names in ``folder`` (None when it names none)."""
    if not meta.get("bank"):
        return None
    try:
        with np.load(folder / meta["bank"]) as bank:
            return BankRows.of({k: bank[k] for k in bank.files})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise ModelError(f"{folder}: unreadable latent bank {meta['bank']} ({e})") from None


def check_destination(name: str, out_root: Path, dirs, force: bool) -> Path:
    """The new model's folder, out_root/NAME, after checking the name: it must be a plain folder name,
    not a shipped model's nor one elsewhere on the search path (it would hide or be hidden by it), and
    not already in out_root unless ``force``."""
    if not NAME_PATTERN.fullmatch(name):
        raise InputError(
            f"model name {name!r}: use up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    out_root = Path(out_root)
    for d in [bundled_models_dir(), *dirs]:
        if d is not None and Path(d).resolve() != out_root.resolve() and (Path(d) / name / "model.json").is_file():
            shipped = bundled_models_dir() is not None and Path(d).resolve() == bundled_models_dir().resolve()
            raise OutputError(
                f"{name!r} is {'a shipped model' if shipped else 'the name of a model in ' + str(d)}: "
                "choose another name"
            )
    dest = out_root / name
    if dest.exists() and not force:
        raise OutputError(f"{dest} already exists: choose another name, or give --force to replace it")
    return dest


def finetune(
    base: str,
    midi,
    name: str,
    *,
    out_root=None,
    models=(),
    minutes: float = 10.0,
    input_map: str = "gm",
    force: bool = False,
    validation_share: float = VALIDATION_SHARE,
    lr: float = LR,
    batch_size: int = 64,
    patience: int = 20,
    max_steps: int = 0,
    prior_share: float = PRIOR_SHARE,
    l2sp: float = L2SP,
    fit_prior: str = FIT_PRIOR,
    prior_strength: float = PRIOR_STRENGTH,
    parts=TRAINED_PARTS,
    seed: int = 0,
    threads: int = 0,
    progress: bool = True,
) -> dict:
    """Fine-tune model ``base`` on the drum MIDI files under folder ``midi`` (or a list of files) and
    export the result as ``out_root/name`` (default: the per-user models folder). ``models``: more
    folders to search for ``base``. The new model ships a bank, its default source: your windows'
    codes (bare scores humanized with your grooves) where, file by file, they come at least as close to
    your playing as the base's bank, else the base's (``_choose_bank``); and the base's fitted prior
    (``fit_prior``: adapted to your codes when that comes closer to your held-out files). Its rounds are
    chosen humanizing with that bank, as it will play, and reported against the base as a producer
    hears it (its own bank). Nothing is written unless it succeeds. Returns the new model.json."""
    _check_options(minutes, fit_prior, input_map)
    dirs = model_dirs(models)
    dest = check_destination(name, Path(out_root) if out_root is not None else user_models_dir(), dirs, force)
    start = load_base(base, dirs)
    data = read_producer_data(midi, input_map)
    split = Split.of(data, validation_share, seed)
    _say_split(data, split, minutes)
    if threads:
        torch.set_num_threads(threads)
    seed_all(seed)
    model, train_set, val_set = start.model, split.train, split.validation
    before = held_out_numbers(model, val_set, seed, start.prior, start.bank)  # the base as it humanizes by default
    fitted = before if start.bank is None else held_out_numbers(model, val_set, seed, start.prior)
    prior, prior_action = _choose_prior(model, start.prior, train_set, val_set, fitted, seed, fit_prior, prior_strength)
    bank, bank_action = _choose_bank(model, start.bank, data, split, prior, prior_action, seed)
    run = finetune_model(
        model,
        train_set,
        val_set,
        minutes=minutes,
        lr=lr,
        batch_size=batch_size,
        patience=patience,
        max_steps=max_steps,
        prior_share=prior_share,
        l2sp=l2sp,
        parts=parts,
        prior=prior,
        bank=bank,
        seed=seed,
        progress=progress,
    )
    after = held_out_numbers(model, val_set, seed, prior, bank)
    _say_result(run, before, after)
    options = dict(
        minutes=minutes,
        prior_share=prior_share,
        l2sp=l2sp,
        fit_prior=fit_prior,
        prior=prior_action,
        bank=bank_action,
        prior_strength=prior_strength,
        parts=list(parts),
    )
    summary = _summary(
        model, start, data, split, run, before, after, input_map, options, seed=seed, lr=lr, threads=threads
    )
    if bank_action == "yours":  # every window read, the held-out files' too
        shipped_bank = latent_bank(model, WindowSet(data.loops), size=min(BANK_SIZE, len(data)), seed=seed)
    else:
        shipped_bank = start.bank.arrays()
    prior_meta = {"prior_fit": start.meta.get("prior_fit", []), "prior_adapted": prior_action == "adapted"}
    return _export(model, dest, summary, shipped_bank, force, prior, prior_meta, start.meta.get("feel"))


def _check_options(minutes: float, fit_prior: str, input_map: str) -> None:
    """Refuse options that cannot work before anything is read."""
    if not (minutes > 0 and math.isfinite(minutes)):
        raise InputError(f"the time limit must be a positive number of minutes, got {minutes}")
    if fit_prior not in FIT_PRIOR_CHOICES:
        raise InputError(f"fit_prior must be one of {', '.join(FIT_PRIOR_CHOICES)}, got {fit_prior!r}")
    if input_map not in INPUT_MAPS:
        raise InputError(f"unknown input map {input_map!r}; choose from {', '.join(sorted(INPUT_MAPS))}")


def read_producer_data(midi, input_map: str) -> MidiWindows:
    """The windows of the MIDI files under folder ``midi`` (or a list of files) read with input map
    ``input_map``; prints what was read, and refuses too little to fine-tune on."""
    files = midi_files(midi) if isinstance(midi, (str, os.PathLike)) else [Path(p) for p in midi]
    if not files:
        raise DataError(f"{midi}: no MIDI files (.mid, .midi) in this folder or its sub-folders")
    data = read_windows(files, INPUT_MAPS[input_map])
    print(describe(data, len(files)))
    if len(data) < MIN_WINDOWS:
        raise DataError(
            f"too little data: {len(data)} two-bar windows from {len(data.files)} usable files; "
            f"fine-tuning needs at least {MIN_WINDOWS} (about {MIN_WINDOWS + 1} bars of 4/4 drums)"
        )
    return data


@dataclass
class Split:
    """The producer's windows split by file (``split_by_file``): training and validation windows, and
    how many files each comes from."""

    train: WindowSet
    validation: WindowSet
    train_files: int
    validation_files: int

    @classmethod
    def of(cls, data: MidiWindows, share: float, seed: int) -> Split:
        tr, va = split_by_file(data.file_index, share, seed)
        files = [len(np.unique(data.file_index[i])) for i in (tr, va)]
        return cls(WindowSet(data.loops[tr]), WindowSet(data.loops[va]), *files)


def _say_split(data: MidiWindows, split: Split, minutes: float) -> None:
    """What it trains and validates on, and for how long at most."""
    held_out = _files(split.validation_files) if len(data.files) > 1 else "the last bars of the file"
    print(
        f"training on {len(split.train)} windows ({_files(split.train_files)}), validating on "
        f"{len(split.validation)} windows ({held_out}), at most {minutes:g} minutes"
    )


def _say_result(run: dict, before: dict, after: dict) -> None:
    """Why and when it stopped, and the held-out numbers before and after."""
    print(
        f"stopped ({run['stopped']}) after {run['steps']} steps, {run['seconds'] / 60:.1f} min; best round "
        f"{run['best_round']} of {run['rounds']}"
        + ("" if run["best_round"] else " (no round beat the base model: its weights are kept)")
    )
    print(
        f"held-out windows, before -> after: validation loss {before['loss']:.2f} -> {after['loss']:.2f}, "
        f"hit F1 {before['hit_f1']:.3f} -> {after['hit_f1']:.3f}, offset Wasserstein {before['offset_w']:.3f} -> "
        f"{after['offset_w']:.3f}, velocity Wasserstein {before['velocity_w']:.3f} -> {after['velocity_w']:.3f}"
    )


def _summary(
    model: DrumVAE,
    base: Base,
    data: MidiWindows,
    split: Split,
    run: dict,
    before: dict,
    after: dict,
    input_map: str,
    options: dict,
    *,
    seed: int,
    lr: float,
    threads: int,
) -> dict:
    """model.json's "training": the keys a trained model's summary has (``train.summarize``), its
    rounds counted as epochs, then the "finetune" record: base, data counts, options, before / after."""
    return {
        "model": model.config.kind,
        "parameters": sum(p.numel() for p in model.parameters()),
        "config": model.config.to_dict(),
        "best_epoch": run["best_round"],
        "epochs_run": run["rounds"],
        "train_seconds": run["seconds"],
        "train_windows": len(split.train),
        "validation_windows": len(split.validation),
        "validation": evaluate(model, split.validation, model.config.max_beta),
        "hardware": hardware("cpu", threads),
        "seed": seed,
        "batch_size": run["batch_size"],
        "lr": lr,
        "humanize_hit_f1": after["hit_f1"],
        "humanize_offset_spread": after["offset_spread"],
        "windows": after["windows"],
        "finetune": {
            **base.provenance(),
            "input_map": input_map,
            "files": len(data.files),
            "skipped_files": len(data.skipped),
            "windows": len(data),
            "train_files": split.train_files,
            "validation_files": split.validation_files,
            **options,
            "steps": run["steps"],
            "stopped": run["stopped"],
            "before": before,
            "start": run["start"],
            "after": after,
            "curve": [[h["round"], h["seconds"], round(distance(h), 4)] for h in run["history"]],  # round, s, distance
        },
    }


def _export(
    model: DrumVAE,
    dest: Path,
    summary: dict,
    bank: dict,
    force: bool,
    prior: FittedPrior | None = None,
    prior_meta: dict | None = None,
    feel: dict | None = None,
) -> dict:
    """Export into a hidden folder beside ``dest``, then move it into place (replacing ``dest`` only
    with ``force``): the models folder never holds a half-written model. ``prior``: the fitted prior it
    ships, described in model.json by ``prior_meta`` (the base's "prior_fit" rows, "prior_adapted").
    ``feel``: the base's feel (``beatguide.feel``), kept: fine-tuning the decoder side leaves the
    value head's draws as shared within a loop as the base's."""
    with staging(dest) as staged:
        meta = export_model(model, staged, summary, bank)
        if prior is not None:
            meta_prior = dict(prior_meta or {})
            attach(staged, prior.arrays(), meta_prior.pop("prior_fit", []), **meta_prior)
            meta = json.loads((staged / "model.json").read_text())
        if feel:
            meta["feel"] = feel
            (staged / "model.json").write_text(json.dumps(meta, indent=2))
        write_card(staged, meta)
        if dest.exists() and not force:
            raise OutputError(f"{dest} appeared while fine-tuning: give --force to replace it")
        install(staged, dest)
    print(f"wrote model {dest.name!r} to {dest}")
    return meta


def finetune_cli(args) -> int:
    finetune(
        args.model,
        args.midi,
        args.name,
        models=args.models or (),
        minutes=args.minutes,
        input_map=args.input_map,
        force=args.force,
        seed=args.seed,
        threads=args.threads,
    )
    return 0
