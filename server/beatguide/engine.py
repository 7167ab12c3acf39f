"""Inference engine: gestures -> encoders -> latents -> decoder (+ auxiliary decoders), on onnxruntime.

Models are loaded once; one call generates N variations in a single batched run. Every random draw
comes from a seed: ``seed`` for the hit uniforms, ``score_seed`` for the score / lane latents,
``groove_seed`` for the groove and accent latents, and variation k always uses draw k of each,
so keeping one seed keeps that latent ("same groove, new beat").
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .drums import N_CLASSES
from .errors import InputError, ModelError, NoInputError, UnknownModelError
from .grid import STEPS

MAX_VARIATIONS = 8
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 3.0
LANE_MODES = ("decide", "given", "empty")
SCORE_SIDE = ("score", "lanes")  # latents drawn from score_seed; the rest from groove_seed


@dataclass
class Request:
    """What to generate. Gestures left as None are not given (their latents come from the prior)."""

    model: str
    variations: int = 1
    temperature: float = 1.0
    seed: int = 0
    score_seed: int | None = None
    groove_seed: int | None = None
    score: np.ndarray | None = None  # (32, 9) hits
    lane_modes: tuple | None = None  # agvae11: per class "given" / "empty" / "decide"
    groove: np.ndarray | None = None  # (32, 3) hit, velocity, offset
    accents: np.ndarray | None = None  # (32,)


@dataclass
class Result:
    """N loops (N, 32, 27), the auxiliary reconstructions and the seeds used."""

    loops: np.ndarray
    aux: dict = field(default_factory=dict)  # "score" (N,32,9) probs, "groove" (N,32,3), "accents" (N,32) probs
    score_seed: int = 0
    groove_seed: int = 0
    elapsed_ms: float = 0.0
    z: np.ndarray | None = None  # (N, z size): the latents decoded, in the model's latent order


def derive_seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0] & 0x7FFFFFFF)


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
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.sessions = {}
        for role, fname in self.meta["files"].items():
            path = self.folder / fname
            try:
                blob = path.read_bytes()
            except OSError as e:
                raise ModelError(f"{path}: missing model file ({e.strerror})") from None
            want = self.meta.get("sha256", {}).get(fname)
            if want and hashlib.sha256(blob).hexdigest() != want:
                raise ModelError(f"{path}: file is corrupt (checksum differs from model.json)")
            try:
                self.sessions[role] = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
            except Exception as e:  # onnxruntime raises its own exception types
                raise ModelError(f"{path}: onnxruntime cannot load it ({e})") from None

    @property
    def gestures(self) -> list[str]:
        return self.meta["encoder_inputs"]

    def encode(self, gestures: dict) -> dict:
        """{latent: (mu, sigma)} from batched gestures (missing ones as zeros)."""
        outs = self.sessions["encoder"].run(None, {g: gestures[g] for g in self.gestures})
        return {lat["name"]: (outs[2 * i], outs[2 * i + 1]) for i, lat in enumerate(self.latents)}

    def decode(self, z: np.ndarray, uniforms: np.ndarray, temperature: float) -> np.ndarray:
        return self.sessions["decoder"].run(None, {"z": z, "uniforms": uniforms,
                                                   "temperature": np.array([temperature], np.float32)})[0]

    def reconstruct(self, z: np.ndarray) -> dict:
        if "aux" not in self.sessions:
            return {}
        outs = self.sessions["aux"].run(None, {"z": z})
        rec = {lat["gesture"]: o for lat, o in zip(self.latents, outs)}
        if "lanes" in rec:
            rec["score"] = np.swapaxes(rec.pop("lanes"), 1, 2)
        return rec


class Engine:
    """All models of a folder (one sub-folder with model.json each), loaded once."""

    def __init__(self, models_dir, threads: int = 1):
        models_dir = Path(models_dir)
        folders = sorted(p.parent for p in models_dir.glob("*/model.json"))
        if not folders:
            raise ModelError(f"no models in {models_dir}: train and export them first (see README, 'Training')")
        self.models = {}
        for f in folders:
            m = OnnxModel(f, threads)
            self.models[m.name] = m

    @property
    def names(self) -> list[str]:
        return sorted(self.models)

    def generate(self, req: Request) -> Result:
        """N variations of one request, in one batched run."""
        return self.generate_batch([req])[0]

    def generate_batch(self, reqs: list[Request]) -> list[Result]:
        """Many requests to one model at one temperature in one batched run (evaluation, bulk work);
        each result is exactly what ``generate`` gives for that request alone."""
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
        parsed = [_gestures(model, r) for r in reqs]
        post = model.encode({g: np.concatenate([gest[g] for _, gest in parsed]) for g in model.gestures})
        zs, uniforms, seeds = [], [], []
        for i, (req, (n, _), (given, _)) in enumerate(zip(reqs, checked, parsed)):
            score_seed = req.score_seed if req.score_seed is not None else derive_seed(req.seed, 1)
            groove_seed = req.groove_seed if req.groove_seed is not None else derive_seed(req.seed, 2)
            parts = []
            for j, lat in enumerate(model.latents):
                size = lat["dim"] * lat["groups"]
                side = score_seed if lat["gesture"] in SCORE_SIDE else groove_seed
                eps = np.random.default_rng([side, j]).standard_normal((MAX_VARIATIONS, size), np.float32)[:n]
                mu, sigma = post[lat["name"]][0][i], post[lat["name"]][1][i]
                encoded = np.repeat(given[lat["name"]].astype(np.float32), lat["dim"])  # 1 where given
                parts.append(encoded * mu + temp * (encoded * sigma + (1 - encoded)) * eps)
            zs.append(np.concatenate(parts, axis=1))
            uniforms.append(np.random.default_rng(req.seed).random((MAX_VARIATIONS, STEPS, N_CLASSES), np.float32)[:n])
            seeds.append((score_seed, groove_seed))
        z = np.concatenate(zs).astype(np.float32)
        loops = model.decode(z, np.concatenate(uniforms), temp)
        aux = model.reconstruct(z)
        ms = (time.perf_counter() - t0) * 1000
        out, k = [], 0
        for (n, _), (score_seed, groove_seed) in zip(checked, seeds):
            out.append(Result(loops[k:k + n], {g: a[k:k + n] for g, a in aux.items()}, score_seed, groove_seed, ms,
                              z[k:k + n]))
            k += n
        return out


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
        if s is not None and not 0 <= int(s) < 2 ** 63:
            raise InputError(f"{name} must be a non-negative integer, got {s}")
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


def _gestures(model: OnnxModel, req: Request) -> tuple[dict, dict]:
    """Batched encoder inputs (zeros where not given) and, per latent, which groups are encoded."""
    score = None if req.score is None else (_array(req.score, (STEPS, N_CLASSES), "score", 0, 1) > 0.5).astype(np.float32)
    groove = None if req.groove is None else _array(req.groove, (STEPS, 3), "groove", -1, 1)
    if groove is not None:
        if groove[:, :2].min() < 0:
            raise InputError("groove hits and velocities must lie in [0, 1]")
        if not np.any(groove[:, 0] > 0.5):
            groove = None  # a groove with no taps says nothing
        else:
            groove = groove * (groove[:, :1] > 0.5)
    accents = None if req.accents is None else (_array(req.accents, (STEPS,), "accents", 0, 1) > 0.5).astype(np.float32)
    modes = _lane_modes(req, score)
    lanes = np.zeros((N_CLASSES, STEPS), np.float32)
    if score is not None:
        lanes = np.where(np.array(modes)[:, None] == "given", score.T, 0.0).astype(np.float32)
    gest = {"score": score if score is not None else np.zeros((STEPS, N_CLASSES), np.float32),
            "groove": groove if groove is not None else np.zeros((STEPS, 3), np.float32),
            "accents": accents if accents is not None else np.zeros(STEPS, np.float32), "lanes": lanes}
    given = {}
    for lat in model.latents:
        g = lat["gesture"]
        if g == "lanes":
            given[lat["name"]] = np.array([m != "decide" for m in modes])
        else:
            given[lat["name"]] = np.array([{"score": score, "groove": groove, "accents": accents}[g] is not None])
    if model.kind == "baseline" and score is None:
        raise NoInputError("the baseline model humanizes a score: give one")
    if model.kind in ("factorized", "agvae2") and score is None and groove is None:
        raise NoInputError(f"{model.name} needs a score, a groove, or both")
    return given, {k: v[None] for k, v in gest.items()}


def _lane_modes(req: Request, score) -> list[str]:
    if req.lane_modes is None:
        return ["given" if score is not None else "decide"] * N_CLASSES
    modes = [str(m) for m in req.lane_modes]
    if len(modes) != N_CLASSES or any(m not in LANE_MODES for m in modes):
        raise InputError(f"lane modes must be {N_CLASSES} of {', '.join(LANE_MODES)}")
    if score is None and "given" in modes:
        raise NoInputError("a lane is marked given but no score was sent")
    return modes
