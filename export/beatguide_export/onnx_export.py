"""Export a trained run to ONNX under models/NAME/: encoder, decoder, auxiliary decoders, model.json
and a model card. Sampling stays reproducible: the decoder takes the hit uniforms as an input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from beatguide.engine import LANE_MODES
from beatguide.errors import BeatGuideError, OutputError
from beatguide.model_paths import NAME_PATTERN, bundled_models_dir, env_models_dirs, user_models_dir

from .models import GESTURE_SHAPES, N_DRUMS, STEPS, DrumVAE, ModelConfig, activate
from .train import BANK_FILE, BEST_FILE, latent_bank

OPSET = 17
WEIGHTS_FILE = "weights.npz"  # the torch weights (float16), for fine-tuning


class EncoderGraph(nn.Module):
    """gestures -> (mu, sigma) of every latent."""

    def __init__(self, model: DrumVAE):
        super().__init__()
        self.model = model
        self.gestures = sorted({lat.gesture for lat in model.latents})

    def forward(self, *inputs):
        post = self.model.encode(dict(zip(self.gestures, inputs)))
        return tuple(t for lat in self.model.latents for t in post[lat.name])


class DecoderGraph(nn.Module):
    """z, hit uniforms, temperature, hit control -> loop (B, 32, 27) of hits, velocities, offsets."""

    def __init__(self, model: DrumVAE):
        super().__init__()
        self.model = model

    def forward(self, z, uniforms, temperature, hit_control):
        return self.model.sample(z, uniforms, temperature, hit_control)


class AuxGraph(nn.Module):
    """z -> each gesture as the model reads it: hit probabilities, velocities, offsets."""

    def __init__(self, model: DrumVAE):
        super().__init__()
        self.model = model

    def forward(self, z):
        raw = self.model.reconstruct(self.model.split(z))
        return tuple(activate(lat.gesture, raw[lat.gesture]) for lat in self.model.latents)


def capabilities(model: DrumVAE, has_bank: bool) -> dict:
    """What the model takes, written into model.json for the engine, server, CLI and device."""
    return {
        "gestures": list(model.model_kind.gestures),
        "lane_modes": list(LANE_MODES),
        "latent_sources": ["prior", "bank"] if has_bank else ["prior"],
        "aux": [lat.gesture for lat in model.latents if lat.name in model.aux],
        "needs": model.model_kind.needs,
    }


def load_exported(folder: Path) -> DrumVAE:
    """The torch model of an exported model folder (model.json config + weights.npz), e.g. to fine-tune it."""
    folder = Path(folder)
    meta = json.loads((folder / "model.json").read_text())
    if not meta.get("weights"):
        raise BeatGuideError(f"{folder}: exported without torch weights (re-export it with this version)")
    blob = (folder / meta["weights"]).read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta["sha256"].get(meta["weights"]):
        raise BeatGuideError(f"{folder / meta['weights']}: file is corrupt (checksum differs from model.json)")
    model = DrumVAE(ModelConfig(**meta["config"]))
    with np.load(folder / meta["weights"]) as w:
        model.load_state_dict({k: torch.from_numpy(w[k].astype(np.float32)) for k in w.files})
    return model.eval()


def load_run(run: Path) -> tuple[DrumVAE, dict]:
    ck_path = Path(run) / BEST_FILE
    if not ck_path.is_file():
        raise BeatGuideError(f"{ck_path}: no trained checkpoint (train first)")
    ck = torch.load(ck_path, weights_only=False)
    cfg = dict(ck["config"])
    model = DrumVAE(ModelConfig(**cfg))
    model.load_state_dict(ck["model"])
    model.eval()
    summary_path = Path(run) / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return model, summary


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str]) -> None:
    dyn = {n: {0: "batch"} for n in inputs + outputs if n != "temperature"}
    with warnings.catch_warnings():
        # Tracing notes, not faults: the batch axis is dynamic and every LSTM runs all 32 steps, so the
        # graphs serve any batch size (the engine's tests run them at 1-8).
        for message in ("Exporting a model to ONNX with a batch_size", "Converting a tensor to a Python", "Iterating"):
            warnings.filterwarnings("ignore", message=message)
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            opset_version=OPSET,
            dynamic_axes=dyn,
            dynamo=False,
        )


def export_model(model: DrumVAE, out_dir: Path, summary: dict | None = None, bank: dict | None = None) -> dict:
    """Write encoder.onnx, decoder.onnx, aux.onnx (AG-VAEs), the latent bank (if any) and model.json
    into out_dir; returns the metadata."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    b = 2
    enc = EncoderGraph(model)
    enc_in = tuple(torch.zeros((b,) + GESTURE_SHAPES[g]) for g in enc.gestures)
    enc_out = [f"{k}_{lat.name}" for lat in model.latents for k in ("mu", "sigma")]
    files = {}
    with torch.no_grad():
        _export(enc, enc_in, out_dir / "encoder.onnx", enc.gestures, enc_out)
        files["encoder"] = "encoder.onnx"
        dec_in = (
            torch.zeros(b, model.z_size),
            torch.rand(b, STEPS, model.uniform_width),
            torch.tensor([1.0]),
            -torch.ones(b, STEPS, N_DRUMS),
        )
        _export(
            DecoderGraph(model),
            dec_in,
            out_dir / "decoder.onnx",
            ["z", "uniforms", "temperature", "hit_control"],
            ["loop"],
        )
        files["decoder"] = "decoder.onnx"
        if len(model.aux):
            aux_out = [f"aux_{lat.gesture}" for lat in model.latents]
            _export(AuxGraph(model), (torch.zeros(b, model.z_size),), out_dir / "aux.onnx", ["z"], aux_out)
            files["aux"] = "aux.onnx"
    hashed = list(files.values())
    np.savez_compressed(
        out_dir / WEIGHTS_FILE,
        **{k: v.detach().cpu().numpy().astype(np.float16) for k, v in model.state_dict().items()},
    )
    hashed.append(WEIGHTS_FILE)
    if bank is not None:
        np.savez_compressed(out_dir / BANK_FILE, **bank)
        hashed.append(BANK_FILE)
    meta = {
        "name": out_dir.name,
        "kind": model.config.kind,
        "format_version": 2,
        "capabilities": capabilities(model, bank is not None),
        "latents": [
            {"name": lat.name, "dim": lat.dim, "groups": lat.groups, "gesture": lat.gesture} for lat in model.latents
        ],
        "encoder_inputs": enc.gestures,
        "z_size": model.z_size,
        "files": files,
        "opset": OPSET,
        "parameters": sum(p.numel() for p in model.parameters()),
        "config": model.config.to_dict(),
        "exported": dt.date.today().isoformat(),
        "torch": torch.__version__,
        "weights": WEIGHTS_FILE,
        "bank": BANK_FILE if bank is not None else None,
        "bank_rows": 0 if bank is None else int(len(bank["z"])),
        "sha256": {f: hashlib.sha256((out_dir / f).read_bytes()).hexdigest() for f in hashed},
        "training": summary or {},
    }
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2))
    return meta


def destination(name: str, models: Path, replace: bool) -> Path:
    """The new model's folder, models/NAME. Without ``replace`` it may not overwrite a model already
    there, nor take a shipped model's name in a folder every command searches (your models folder,
    $BEATGUIDE_MODELS): there it would hide the shipped model from every command and the device."""
    if not NAME_PATTERN.fullmatch(name):
        raise BeatGuideError(
            f"model name {name!r}: use up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    out = Path(models) / name
    shipped = bundled_models_dir()
    always_searched = {p.resolve() for p in [user_models_dir(), *env_models_dirs()]}
    if not replace:
        if (
            Path(models).resolve() in always_searched
            and shipped is not None
            and (shipped / name / "model.json").is_file()
        ):
            raise OutputError(
                f"{name!r} is a shipped model: give the export another name with --name, "
                "or --replace to use yours instead of the shipped one"
            )
        if out.exists():
            raise OutputError(f"{out} already exists: give the export another name with --name, or --replace")
    return out


@contextmanager
def staging(dest: Path):
    """A folder to write a model into, hidden beside ``dest`` (so it is never served half-written);
    removed on leaving, whatever happens. :func:`install` moves it into place."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    except OSError as e:
        raise OutputError(f"cannot write in {dest.parent}: {e.strerror or e}") from None
    try:
        yield tmp / dest.name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(staged: Path, dest: Path) -> None:
    """Move a staged model folder to ``dest``, the model there (if any) set aside to be removed with the stage."""
    if dest.exists():
        os.replace(dest, staged.parent / "replaced")
    os.replace(staged, dest)


def export_cli(args) -> int:
    """``beatguide export``: the run's model into models/NAME, written beside it and moved into place
    whole (replacing a model there only when asked), so no half-written model is ever served."""
    model, summary = load_run(args.run)
    out = destination(args.name or model.config.kind, args.models, args.replace)
    bank_path = Path(args.run) / BANK_FILE
    if getattr(args, "gmd", None):  # (re)build the bank from the training split
        from . import data

        bank = latent_bank(model, data.load(args.gmd, "train", getattr(args, "cache_dir", None)))
    elif bank_path.is_file():
        with np.load(bank_path) as f:
            bank = {k: f[k] for k in f.files}
    else:
        bank = None
    results = None
    if getattr(args, "results", None):
        try:
            results = json.loads(Path(args.results).read_text())
        except (OSError, ValueError) as e:
            raise BeatGuideError(f"{args.results}: not a readable results.json ({e})") from None
    with staging(out) as staged:
        meta = export_model(model, staged, summary, bank)
        if getattr(args, "gmd", None):  # the fitted prior, from the same split's codes
            from beatguide.gmd import load_split

            from .prior_fit import add_to_model

            cache = getattr(args, "cache_dir", None)
            train, validation = (load_split(args.gmd, split, cache).loops for split in ("train", "validation"))
            add_to_model(staged, train, validation)
            meta = json.loads((staged / "model.json").read_text())
        from .model_card import write_card

        write_card(staged, meta, results)
        install(staged, out)
    print(f"exported {meta['kind']} ({meta['parameters']:,} parameters) to {out}")
    if "feel" not in meta and meta["config"].get("values") == "logistic":  # drawn values, independent until fitted
        print(
            f"its value draws are independent per note; to share them within a loop as drummers do, fit its feel: "
            f"python -m beatguide_export.feel_fit --gmd DIR --models {out.parent} --write"
        )
    return 0
