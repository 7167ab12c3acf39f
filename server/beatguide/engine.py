"""Inference engine: gestures -> encoders -> latents -> decoder (+ auxiliary decoders), on onnxruntime.

Models are loaded once; one call generates N variations in a single batched run. Every random draw
comes from a seed: ``seed`` for the hit and value uniforms (values drawn with the model's feel,
``beatguide.feel``), ``score_seed`` for the score / lane latents,
``groove_seed`` for the groove and accent latents, and variation k always uses draw k of each,
so keeping one seed keeps that latent ("same groove, new beat"). Where a model has a critic
(``beatguide.critic``), a request that draws a latent is drawn several times, each from a seed of its
own (seeds the request sets kept), and the draw whose variations play most like a drummer is returned
with its seeds; its variations are chosen together, so there variation k can change with their count.

Latents of gestures that are not given come from one of three sources: ``"bank"`` (the default
where the model ships one), real drummers' codes shipped with the model, drawn among the windows
whose steps, cymbals and toms are most like the input's; ``"fitted"``, a Gaussian mixture fitted to
the model's training codes and conditioned on the codes of the gestures that are given; or
``"prior"``, N(0, I) as in the paper (docs/ablation.md, "The bank as the default"). Lane modes
are honoured by every model: "empty" lanes get no hit and "exact" lanes exactly the drawn hits,
forced inside the decoder, so the rest of the loop (and the forced hits' velocity and timing)
is generated around them. Taps alone (no score): variation 0 plays the tap reader's score
(``beatguide.tap_reader``) with the score side's latents at their posterior mean; the other
variations draw. Where the groove was drawn, each drum's velocities are mapped onto the training
drummers' (``beatguide.levels``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import model_files
from .critic import CRITIC_ROLE, MAX_CANDIDATES, Critic
from .drums import CLASSES, N_CLASSES
from .errors import InputError, ModelError, NoInputError, UnknownModelError
from .feel import Feel
from .fitted_prior import FittedPrior
from .grid import STEPS
from .levels import Levels
from .registry import SCORE_SIDE
from .tap_reader import TapReader
from .vocabulary import (
    DEFAULT_SOURCES,
    LANE_MODES,
    LATENT_SOURCES,
    MAX_TEMPERATURE,
    MAX_VARIATIONS,
    MIN_TEMPERATURE,
    default_lane_mode,
)

log = logging.getLogger("beatguide.engine")

PRIOR_FILE = "prior.npz"
CANDIDATE_STREAM = 300  # derive_seed streams of a request's further candidates (beatguide.critic)
BANK_NEIGHBOURS = 32  # bank rows drawn from: those whose rhythm is closest to the input's
# lane groups matched on their own: the cymbals and the toms mark the section (a chorus, a fill)
BANK_GROUPS = tuple(
    tuple(CLASSES.index(d) for d in g) for g in (("crash",), ("ride",), ("low_tom", "mid_tom", "high_tom"))
)
FREE, SILENT, HIT = -1.0, 0.0, 1.0  # hit control values: sample, force no hit, force a hit


@dataclass
class Request:
    """What to generate. Gestures left as None are not given (their latents come from the latent source)."""

    model: str
    variations: int = 1
    temperature: float = 1.0
    seed: int = 0
    score_seed: int | None = None
    groove_seed: int | None = None
    score: np.ndarray | None = None  # (32, 9) hits
    lane_modes: tuple | None = None  # per class, one of LANE_MODES (default: default_lane_mode)
    groove: np.ndarray | None = None  # (32, 3) hit, velocity, offset
    accents: np.ndarray | None = None  # (32,)
    latent_source: str | None = None  # where latents of gestures not given come from: LATENT_SOURCES
    #                                   (None: the model's default, DEFAULT_SOURCES)
    held: np.ndarray | None = None  # (variations, z size): latents decoded as they are where not NaN
    #                                 (a phrase decodes its later windows from its first one's)
    feel_of: tuple[int, int] | None = None  # (seed, variation): share that request's loop-level feel
    #                                         from that variation on (a phrase's later windows)
    candidates: int | None = None  # whole draws of the request the critic keeps one of
    #                                (None: the model's default; 1: the critic off)


@dataclass
class Result:
    """N loops (N, 32, 27), the auxiliary reconstructions and the seeds used."""

    loops: np.ndarray
    aux: dict = field(default_factory=dict)  # "score" (N,32,9) probs, "groove" (N,32,3), "accents" (N,32) probs
    score_seed: int = 0
    groove_seed: int = 0
    elapsed_ms: float = 0.0
    z: np.ndarray | None = None  # (N, z size): the latents decoded, in the model's latent order
    seed: int = 0  # the seed the notes were drawn from: the request's, or the critic's pick's (candidate_seed)


def derive_seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0] & 0x7FFFFFFF)


def candidate_seed(seed: int, c: int) -> int:
    """The seed of a request's candidate ``c`` (``beatguide.critic``): candidate 0 is the request itself."""
    return seed if c == 0 else derive_seed(seed, CANDIDATE_STREAM + c)


class OnnxModel:
    """One exported model: its metadata and onnxruntime sessions."""

    def __init__(self, folder: Path, threads: int = 1):
        self.folder = Path(folder)
        try:
            self.meta = json.loads((self.folder / "model.json").read_text())
        except (OSError, ValueError) as e:
            raise ModelError(f"{self.folder}: unreadable model.json ({e})") from None
        self.name = self.meta["name"]
        self.kind = self.meta["kind"]
        self.latents = self.meta["latents"]
        self.sessions = {}
        for role, fname in self.meta["files"].items():
            path = self.folder / fname
            blob = model_files.read(path)
            want = self.meta.get("sha256", {}).get(fname)
            if want and hashlib.sha256(blob).hexdigest() != want:
                raise ModelError(f"{path}: file is corrupt (checksum differs from model.json)")
            self.sessions[role] = model_files.session(blob, path, threads)

        self.bank = self.bank_steps = self.bank_hits = self.bank_groups = None
        if self.meta.get("bank"):
            path = self.folder / self.meta["bank"]
            blob = model_files.read(path)
            if hashlib.sha256(blob).hexdigest() != self.meta.get("sha256", {}).get(self.meta["bank"]):
                raise ModelError(f"{path}: file is corrupt (checksum differs from model.json)")
            with np.load(path) as bank:
                self.bank, self.bank_steps = bank["z"].astype(np.float32), bank["steps"].astype(bool)
                if "hits" in bank.files:  # older banks hold no scores: matched on steps alone
                    self.bank_hits = bank["hits"].astype(bool)
            if (
                self.bank.shape[1:] != (self.meta["z_size"],)
                or self.bank_steps.shape != (len(self.bank), STEPS)
                or (self.bank_hits is not None and self.bank_hits.shape != (len(self.bank), STEPS, N_CLASSES))
                or not len(self.bank)
            ):
                raise ModelError(
                    f"{path}: latent bank has shape {self.bank.shape}, expected (N, {self.meta['z_size']})"
                )
            self.bank_steps = self.bank_steps.astype(np.float32)  # 0 / 1, for the match's products
            if self.bank_hits is not None:
                self.bank_groups = lane_groups(self.bank_hits)
        self.prior = self._load_prior() if self.meta.get("prior") else None
        inputs = {i.name: i for i in self.sessions["decoder"].get_inputs()}
        self.hit_control = "hit_control" in inputs
        self.uniform_width = inputs["uniforms"].shape[2]  # 9 hit uniforms per step, 27 with sampled values
        try:
            self.feel = Feel.from_meta(self.meta.get("feel"))  # how value draws are shared within a loop
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{self.folder}: model.json has an unreadable feel ({e})") from None
        self.levels = self._load_levels() if self.meta.get("levels") else Levels()  # drawn grooves' levels
        self.critic = None  # keeps the best of several whole draws of a request (None: one draw)
        if CRITIC_ROLE in self.sessions:
            try:
                self.critic = Critic(self.sessions.pop(CRITIC_ROLE), self.meta["critic"]["candidates"])
            except (KeyError, TypeError, ValueError) as e:
                raise ModelError(f"{self.folder}: model.json has an unreadable critic ({e})") from None
        self.capabilities = self.meta.get("capabilities") or self._derived_capabilities()

    def _load_prior(self) -> FittedPrior:
        path = self.folder / self.meta["prior"]
        if hashlib.sha256(model_files.read(path)).hexdigest() != self.meta.get("sha256", {}).get(self.meta["prior"]):
            raise ModelError(f"{path}: file is corrupt (checksum differs from model.json)")
        try:
            prior = FittedPrior.from_file(path)
        except (KeyError, ValueError) as e:
            raise ModelError(f"{path}: not a fitted prior ({e})") from None
        if prior.size != self.meta["z_size"]:
            raise ModelError(f"{path}: fitted prior of size {prior.size}, expected {self.meta['z_size']}")
        return prior

    def _load_levels(self) -> Levels:
        path = self.folder / self.meta["levels"]
        blob = model_files.read(path)
        if hashlib.sha256(blob).hexdigest() != self.meta.get("sha256", {}).get(self.meta["levels"]):
            raise ModelError(f"{path}: file is corrupt (checksum differs from model.json)")
        try:
            return Levels.from_file(io.BytesIO(blob))
        except (KeyError, ValueError, OSError) as e:
            raise ModelError(f"{path}: not a model's levels ({e})") from None

    @property
    def default_source(self) -> str:
        return next(s for s in DEFAULT_SOURCES if s in self.capabilities["latent_sources"])

    def _derived_capabilities(self) -> dict:
        """Capabilities of a format-1 model.json (exported before models described themselves)."""
        gestures = sorted({lat["gesture"] for lat in self.latents})
        needs = "any" if "lanes" in gestures else "score_or_groove" if "groove" in gestures else "score"
        return {
            "gestures": gestures,
            "lane_modes": [m for m in LANE_MODES if m != "exact"],
            "latent_sources": ["prior"],
            "aux": [lat["gesture"] for lat in self.latents] if "aux" in self.sessions else [],
            "needs": needs,
        }

    @property
    def gestures(self) -> list[str]:
        return self.meta["encoder_inputs"]

    def encode(self, gestures: dict) -> dict:
        """{latent: (mu, sigma)} from batched gestures (missing ones as zeros)."""
        outs = self.sessions["encoder"].run(None, {g: gestures[g] for g in self.gestures})
        return {lat["name"]: (outs[2 * i], outs[2 * i + 1]) for i, lat in enumerate(self.latents)}

    def decode(self, z: np.ndarray, uniforms: np.ndarray, temperature: float, hit_control: np.ndarray) -> np.ndarray:
        """Loops (B, 32, 27) from latents and uniforms (B, 32, ``uniform_width``); ``hit_control``
        (B, 32, 9): FREE, SILENT or HIT per cell."""
        feed = {"z": z, "uniforms": uniforms, "temperature": np.array([temperature], np.float32)}
        if self.hit_control:
            return self.sessions["decoder"].run(None, {**feed, "hit_control": hit_control})[0]
        loops = self.sessions["decoder"].run(None, feed)[0]  # format 1: silent lanes masked afterwards
        keep = np.tile(hit_control != SILENT, (1, 1, 3))
        return np.where(keep, loops, 0.0).astype(np.float32)

    def reconstruct(self, z: np.ndarray) -> dict:
        if "aux" not in self.sessions:
            return {}
        outs = self.sessions["aux"].run(None, {"z": z})
        rec = {lat["gesture"]: o for lat, o in zip(self.latents, outs)}
        if "lanes" in rec:
            rec["score"] = np.swapaxes(rec.pop("lanes"), 1, 2)
        return rec


class Engine:
    """All models of one folder or of a list of folders (one sub-folder with model.json each), loaded
    once; where two folders hold a model of the same name, the earlier folder's is used
    (``beatguide.model_paths`` gives the search order)."""

    def __init__(self, models_dirs, threads: int = 1):
        dirs = [Path(models_dirs)] if isinstance(models_dirs, (str, os.PathLike)) else [Path(d) for d in models_dirs]
        self.models = {}
        for d in dirs:
            for f in sorted(p.parent for p in d.glob("*/model.json")):
                if f.name in self.models:
                    log.debug("%s: skipped, model %s already loaded from %s", f, f.name, self.models[f.name].folder)
                    continue
                m = OnnxModel(f, threads)
                self.models.setdefault(m.name, m)
        if not self.models:
            raise ModelError(
                f"no models in {', '.join(map(str, dirs)) or 'no folder'}: "
                "train and export them first (see README, 'Training')"
            )
        self.tap_reader = TapReader.find(dirs, threads)  # reads a score from taps alone (None: none found)

    @property
    def names(self) -> list[str]:
        return sorted(self.models)

    def _guesses(self, model: OnnxModel, reqs: list[Request], parsed: list) -> list:
        """Per request, the tap reader's score as a request of its own (parsed), where the request gives
        taps and no score to a model that reads a score; None elsewhere. Lanes set empty stay empty."""
        out = [None] * len(reqs)
        if self.tap_reader is None or not any(lat["gesture"] in SCORE_SIDE for lat in model.latents):
            return out
        todo = [i for i, (r, p) in enumerate(zip(reqs, parsed)) if r.score is None and p.inputs["groove"].any()]
        if not todo:
            return out
        scores = self.tap_reader.best_guess(np.concatenate([parsed[i].inputs["groove"] for i in todo]))
        for i, score in zip(todo, scores):
            empty = parsed[i].hit_control[0] == SILENT  # lanes set empty (their control is silent at every step)
            if not score[:, ~empty].any():
                continue  # the reader hears no drum: variation 0 stays the model's own guess
            modes = tuple("empty" if e else "given" for e in empty)
            guess = Request(
                model.name, score=score * ~empty, lane_modes=modes, groove=reqs[i].groove, accents=reqs[i].accents
            )
            out[i] = _gestures(model, guess)
        return out

    def _chosen(self, model: OnnxModel, reqs: list[Request], counts: list[int], enforce_lanes: bool, t0: float):
        """Each request drawn as ``counts`` candidates, each a whole draw from a seed of its own (the
        request's first), its latents from that seed's score and groove seeds where the request sets
        none; the critic keeps the candidate whose variations play most like a drummer (mean score)."""
        subs = [
            replace(r, seed=candidate_seed(int(r.seed), c), candidates=1)
            for r, k in zip(reqs, counts)
            for c in range(k)
        ]
        results = self.generate_batch(subs, enforce_lanes)
        scores = model.critic.scores(np.concatenate([r.loops for r in results]))
        out, i, row = [], 0, 0
        for k in counts:
            group = results[i : i + k]
            means = []
            for r in group:
                means.append(float(scores[row : row + len(r.loops)].mean()))
                row += len(r.loops)
            out.append(group[int(np.argmax(means))])
            i += k
        ms = (time.perf_counter() - t0) * 1000
        return [replace(r, elapsed_ms=ms) for r in out]

    def capabilities(self, name: str) -> dict:
        """What model ``name`` takes: gestures, lane modes, latent sources, auxiliary readings, needs."""
        if name not in self.models:
            raise UnknownModelError(f"unknown model {name!r}; loaded: {', '.join(self.names)}")
        return self.models[name].capabilities

    def generate(self, req: Request) -> Result:
        """N variations of one request, in one batched run."""
        return self.generate_batch([req])[0]

    def generate_batch(self, reqs: list[Request], enforce_lanes: bool = True) -> list[Result]:
        """Many requests to one model at one temperature in one batched run (evaluation, bulk work);
        each result is exactly what ``generate`` gives for that request alone. ``enforce_lanes=False``
        leaves hits unforced (to measure what a model plays on its own where lanes are empty)."""
        t0 = time.perf_counter()
        model = self.models.get(reqs[0].model)
        if model is None:
            raise UnknownModelError(f"unknown model {reqs[0].model!r}; loaded: {', '.join(self.names)}")
        if any(r.model != reqs[0].model for r in reqs):
            raise InputError("a batch goes to one model")
        checked = [_check_scalars(r) for r in reqs]
        temp = checked[0][1]
        if any(t != temp for _, t in checked):
            raise InputError("a batch uses one temperature")
        counts = [_candidates(model, r) for r in reqs]
        counts = [c if c == 1 or _draws_latents(model, r) else 1 for c, r in zip(counts, reqs)]
        if any(c > 1 for c in counts):
            return self._chosen(model, reqs, counts, enforce_lanes, t0)
        parsed = [_gestures(model, r) for r in reqs]
        guesses = self._guesses(model, reqs, parsed)
        batch = parsed + [g for g in guesses if g is not None]
        post = model.encode({g: np.concatenate([p.inputs[g] for p in batch]) for g in model.gestures})
        guess_rows = iter(range(len(parsed), len(batch)))
        zs, uniforms, controls, seeds, sources = [], [], [], [], []
        for i, (req, (n, _), p, guess) in enumerate(zip(reqs, checked, parsed, guesses)):
            score_seed = req.score_seed if req.score_seed is not None else derive_seed(req.seed, 1)
            groove_seed = req.groove_seed if req.groove_seed is not None else derive_seed(req.seed, 2)
            source = req.latent_source or model.default_source
            seeded = (temp, score_seed, groove_seed, source)
            z = _latents(model, post, i, p, n, *seeded, best_guess=not _score_side_given(model, p))
            if guess is not None:  # variation 0 plays the tap reader's score
                z[0] = _latents(model, post, next(guess_rows), guess, 1, *seeded, best_guess=True)[0]
            zs.append(z if req.held is None else _held(req.held, z))
            u = np.random.default_rng(req.seed).random((MAX_VARIATIONS, STEPS, model.uniform_width), np.float32)[:n]
            uniforms.append(model.feel.apply(u, req.seed, MAX_VARIATIONS, shared=req.feel_of))
            control = p.hit_control if enforce_lanes else np.full_like(p.hit_control, FREE)
            controls.append(np.repeat(control[None], n, axis=0))
            seeds.append((score_seed, groove_seed))
            sources.append(None if _groove_side_given(model, p) else source)
        z = np.concatenate(zs).astype(np.float32)
        loops = model.decode(z, np.concatenate(uniforms), temp, np.concatenate(controls))
        k = 0
        for (n, _), source in zip(checked, sources):  # a drawn groove plays at the drummers' levels
            loops[k : k + n] = model.levels.apply(loops[k : k + n], source)
            k += n
        aux = model.reconstruct(z)
        ms = (time.perf_counter() - t0) * 1000
        out, k = [], 0
        for req, (n, _), (score_seed, groove_seed) in zip(reqs, checked, seeds):
            out.append(
                Result(
                    loops[k : k + n],
                    {g: a[k : k + n] for g, a in aux.items()},
                    score_seed,
                    groove_seed,
                    ms,
                    z[k : k + n],
                    int(req.seed),
                )
            )
            k += n
        return out


def _latents(
    model: OnnxModel,
    post: dict,
    i: int,
    parsed: _Parsed,
    n: int,
    temp: float,
    score_seed: int,
    groove_seed: int,
    source: str,
    best_guess: bool = False,
) -> np.ndarray:
    """(n, z) latents of request ``i``: the posterior where a gesture is given (mean + temperature-scaled
    noise); else a prior draw scaled by the temperature, a bank row (one row per side and variation,
    among the rows whose rhythm is closest to the input's), or a draw of the fitted prior.
    ``best_guess``: variation 0's score-side latents at their mean (the posterior's where given, else
    the prior's, conditioned on what is given; a bank row is drawn as for the other variations), not a
    draw (docs/results.md, "Tap2Drum")."""
    candidates = _bank_candidates(model, parsed) if source == "bank" else None
    parts, means, given, score_side, eps_all = [], [], [], [], []
    for j, lat in enumerate(model.latents):
        start = sum(x["dim"] * x["groups"] for x in model.latents[:j])
        size = lat["dim"] * lat["groups"]
        side = score_seed if lat["gesture"] in SCORE_SIDE else groove_seed
        eps = np.random.default_rng([side, j]).standard_normal((MAX_VARIATIONS, size), np.float32)[:n]
        if best_guess and lat["gesture"] in SCORE_SIDE:
            eps[0] = 0.0
        mu, sigma = post[lat["name"]][0][i], post[lat["name"]][1][i]
        encoded = np.repeat(parsed.given[lat["name"]].astype(np.float32), lat["dim"])  # 1 where given
        if candidates is not None:
            rows = candidates[
                np.random.default_rng([side, len(model.latents)]).integers(len(candidates), size=MAX_VARIATIONS)[:n]
            ]
            missing = model.bank[rows, start : start + size]
        else:
            missing = temp * eps
        parts.append(encoded * (mu + temp * sigma * eps) + (1 - encoded) * missing)
        means.append(mu)
        given.append(encoded > 0)
        score_side.append(np.full(size, lat["gesture"] in SCORE_SIDE))
        eps_all.append(eps)
    z = np.concatenate(parts, axis=1)
    if source == "fitted":
        z = _fitted_draws(
            model,
            z,
            np.concatenate(means),
            np.concatenate(given),
            np.concatenate(score_side),
            np.concatenate(eps_all, axis=1),
            temp,
            (score_seed, groove_seed),
        )
    return z


def _fitted_draws(
    model: OnnxModel,
    z: np.ndarray,
    mu: np.ndarray,
    given: np.ndarray,
    score_side: np.ndarray,
    eps: np.ndarray,
    temp: float,
    seeds: tuple[int, int],
) -> np.ndarray:
    """Replace the latents not given in ``z`` (n, D) by draws of the fitted prior, conditioned on the
    given ones' posterior means: the score side's first (from the score seed), then the groove side's
    (from the groove seed) given those, so each seed keeps deciding its own side."""
    x = np.repeat(mu[None], len(z), axis=0).astype(np.float64)
    observed = given.copy()
    for side_seed, side in zip(seeds, (score_side, ~score_side)):
        todo = side & ~observed
        if not todo.any():
            continue
        uniforms = np.random.default_rng([side_seed, len(model.latents) + 1]).random(MAX_VARIATIONS)[: len(z)]
        draws = model.prior.sample(x, observed, uniforms, eps, temp)
        x[:, todo] = draws[:, todo]
        observed |= todo
    return np.where(given, z, x).astype(np.float32)


def _candidates(model: OnnxModel, req: Request) -> int:
    """How many whole draws of the request the critic keeps one of (1: one draw, no critic)."""
    if req.candidates is None:
        return model.critic.candidates if model.critic is not None else 1
    try:
        k = int(req.candidates)
    except (TypeError, ValueError):
        raise InputError("candidates must be a number") from None
    if not 1 <= k <= MAX_CANDIDATES:
        raise InputError(f"candidates must be 1-{MAX_CANDIDATES}, got {k}")
    if k > 1 and model.critic is None:
        raise InputError(f"model {model.name!r} has no critic to choose among candidates")
    return k


def _draws_latents(model: OnnxModel, req: Request) -> bool:
    """Whether any of the request's latents is drawn (not given, not held): where none is, its draws
    differ in their notes alone, which a critic's pick gains nothing from (docs/ablation.md, "A critic's
    pick"), so it is drawn once."""
    if req.held is not None and np.isfinite(np.asarray(req.held, np.float32)).all():
        return False
    parsed = _gestures(model, req)
    return not all(parsed.given[lat["name"]].all() for lat in model.latents)


def _score_side_given(model: OnnxModel, parsed: _Parsed) -> bool:
    """Whether anything of the score side (a score, a lane's content) is given."""
    return any(parsed.given[x["name"]].any() for x in model.latents if x["gesture"] in SCORE_SIDE)


def _groove_side_given(model: OnnxModel, parsed: _Parsed) -> bool:
    """Whether a groove-side gesture (a groove, accents) is given: its latents are the player's own."""
    return any(parsed.given[x["name"]].any() for x in model.latents if x["gesture"] not in SCORE_SIDE)


def _held(held, z: np.ndarray) -> np.ndarray:
    """``z`` with the latents ``held`` gives (not NaN) put in their place."""
    held = np.asarray(held, np.float32)
    if held.shape != z.shape:
        raise InputError(f"held latents must have shape {z.shape}, got {held.shape}")
    return np.where(np.isnan(held), z, held)


def _bank_candidates(model: OnnxModel, parsed: _Parsed) -> np.ndarray:
    """Bank rows to draw request ``parsed``'s missing latents from (``bank_neighbours``)."""
    return bank_neighbours(model, parsed.steps, parsed.cells, parsed.known)


def bank_neighbours(bank, steps: np.ndarray, cells: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The rows of a latent bank most like an input: the BANK_NEIGHBOURS best (ties by bank order), or
    every row when the input plays no step. ``bank`` has ``bank_steps`` (N, 32), ``bank_hits`` (N, 32,
    9; None: steps alone) and ``bank_groups`` (``lane_groups`` of the hits); the input its ``steps``
    (32,) played, the hits ``cells`` (32, 9) of its ``known`` (9,) lanes. Likeness: the Jaccard
    similarity of the steps played, plus, per lane group of BANK_GROUPS, that of the steps its known
    lanes play (1 where neither plays one): a crash, ride or tom part marks the section, and the codes
    of its playing carry its level (docs/ablation.md, "The bank as the default")."""
    if not steps.any():
        return np.arange(len(bank.bank_steps))
    likeness = _jaccard(bank.bank_steps, steps)
    if bank.bank_hits is not None:
        for group, played in zip(BANK_GROUPS, bank.bank_groups):
            lanes = [d for d in group if known[d]]
            if len(lanes) < len(group):  # some of the group's lanes unknown: the known ones alone
                played = bank.bank_hits[:, :, lanes].any(axis=2)
            if lanes:
                likeness += _jaccard(played, cells[:, lanes].any(axis=1))
    return np.argsort(-likeness, kind="stable")[:BANK_NEIGHBOURS]


def lane_groups(hits: np.ndarray) -> np.ndarray:
    """(groups, N, 32) 0 / 1: the steps each lane group of BANK_GROUPS plays in each of ``hits`` (N, 32, 9)."""
    return np.stack([hits[:, :, list(g)].any(axis=2) for g in BANK_GROUPS]).astype(np.float32)


def _jaccard(rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Jaccard similarity of each 0 / 1 row of ``rows`` (N, 32) with ``x`` (32,); 1 where both are empty."""
    rows, x = rows.astype(np.float32, copy=False), x.astype(np.float32)
    both, played = (rows @ np.stack([x, np.ones_like(x)], axis=1)).astype(np.float64).T  # products: fast, exact
    either = played + x.sum() - both
    return np.where(either > 0, both / np.maximum(either, 1), 1.0)


def _check_scalars(req: Request) -> tuple[int, float]:
    try:
        n, temp, seed = int(req.variations), float(req.temperature), int(req.seed)
    except (TypeError, ValueError):
        raise InputError("variations, temperature and seed must be numbers") from None
    if not 1 <= n <= MAX_VARIATIONS:
        raise InputError(f"variations must be 1-{MAX_VARIATIONS}, got {n}")
    if not (np.isfinite(temp) and MIN_TEMPERATURE <= temp <= MAX_TEMPERATURE):
        raise InputError(f"temperature must be {MIN_TEMPERATURE}-{MAX_TEMPERATURE}, got {temp}")
    for name, s in (("seed", seed), ("score_seed", req.score_seed), ("groove_seed", req.groove_seed)):
        if s is not None and not 0 <= int(s) < 2**63:
            raise InputError(f"{name} must be a non-negative integer, got {s}")
    if req.latent_source is not None and req.latent_source not in LATENT_SOURCES:
        raise InputError(f"latent source must be one of {', '.join(LATENT_SOURCES)}, got {req.latent_source!r}")
    return n, temp


def _array(x, shape, name, lo, hi) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.shape != shape:
        raise InputError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} holds NaN or infinite values")
    if a.min(initial=lo) < lo or a.max(initial=hi) > hi:
        raise InputError(f"{name} values must lie in [{lo}, {hi}]")
    return a


@dataclass
class _Parsed:
    """One request, checked: encoder inputs (batch of 1), which latent groups are encoded, hit control."""

    inputs: dict
    given: dict
    hit_control: np.ndarray  # (32, 9)
    steps: np.ndarray  # (32,) the steps the input plays: its known lanes' hits, else its taps
    cells: np.ndarray  # (32, 9) the known lanes' hits
    known: np.ndarray  # (9,) the lanes whose content is known (given, exact or empty)


def _gestures(model: OnnxModel, req: Request) -> _Parsed:
    """Check a request's gestures against the model: encoder inputs (zeros where not given), which
    latents (or lane groups) are encoded, and the hit control its lane modes ask for."""
    if req.latent_source is not None and req.latent_source not in model.capabilities["latent_sources"]:
        raise InputError(
            f"{model.name} has no {req.latent_source!r} latent source "
            f"(it has: {', '.join(model.capabilities['latent_sources'])})"
        )
    score = (
        None if req.score is None else (_array(req.score, (STEPS, N_CLASSES), "score", 0, 1) > 0.5).astype(np.float32)
    )
    groove = None if req.groove is None else _array(req.groove, (STEPS, 3), "groove", -1, 1)
    if groove is not None:
        if groove[:, :2].min() < 0:
            raise InputError("groove hits and velocities must lie in [0, 1]")
        if not np.any(groove[:, 0] > 0.5):
            groove = None  # a groove with no taps says nothing
        else:
            groove = groove * (groove[:, :1] > 0.5)
    accents = None if req.accents is None else (_array(req.accents, (STEPS,), "accents", 0, 1) > 0.5).astype(np.float32)
    modes = np.array(_lane_modes(model, req, score))
    if np.all(modes == "empty") and groove is None and accents is None:
        raise NoInputError("every lane is empty and nothing else is given: there is nothing to play")
    drawn = score if score is not None else np.zeros((STEPS, N_CLASSES), np.float32)
    encoded = np.isin(modes, ("given", "exact", "empty"))  # lanes whose content is known (empty: silence)
    lanes = np.where(np.isin(modes, ("given", "exact"))[:, None], drawn.T, 0.0).astype(np.float32)
    hit_control = np.full((STEPS, N_CLASSES), FREE, np.float32)
    hit_control[:, modes == "empty"] = SILENT
    hit_control[:, modes == "exact"] = drawn[:, modes == "exact"]
    score_given = score is not None and bool(np.isin(modes, ("given", "exact")).any())
    inputs = {
        "score": lanes.T.copy(),
        "lanes": lanes,
        "groove": groove if groove is not None else np.zeros((STEPS, 3), np.float32),
        "accents": accents if accents is not None else np.zeros(STEPS, np.float32),
    }
    given = {}
    for lat in model.latents:
        g = lat["gesture"]
        given[lat["name"]] = (
            encoded
            if g == "lanes"
            else np.array([{"score": score_given, "groove": groove is not None, "accents": accents is not None}[g]])
        )
    needs = model.capabilities["needs"]
    if needs == "score" and not score_given:
        raise NoInputError(f"{model.name} humanizes a score: give one")
    if needs == "score_or_groove" and not score_given and groove is None:
        raise NoInputError(f"{model.name} needs a score, a groove, or both")
    steps = lanes.any(axis=0) if lanes.any() else (groove[:, 0] > 0.5 if groove is not None else np.zeros(STEPS, bool))
    return _Parsed({k: v[None] for k, v in inputs.items()}, given, hit_control, steps, lanes.T > 0.5, encoded)


def _lane_modes(model: OnnxModel, req: Request, score) -> list[str]:
    if req.lane_modes is None:
        return [default_lane_mode(score is not None)] * N_CLASSES
    modes = [str(m) for m in req.lane_modes]
    if len(modes) != N_CLASSES or any(m not in LANE_MODES for m in modes):
        raise InputError(f"lane modes must be {N_CLASSES} of {', '.join(LANE_MODES)}")
    unsupported = sorted(set(modes) - set(model.capabilities["lane_modes"]))
    if unsupported:
        raise InputError(f"{model.name} does not take lane mode {', '.join(unsupported)}")
    if score is None and ("given" in modes or "exact" in modes):
        raise NoInputError("a lane is marked given or exact but no score was sent")
    return modes
