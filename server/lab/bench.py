"""Engine benchmark: ``python server/lab/bench.py [--models DIR] [--runs N] [--torch] [--out FILE]``.

Per model: load time, then the latency of ``Engine.generate`` (timed inside the engine, as
``Result.elapsed_ms``) for 1 and 8 variations of a typical request, p50 and p99 over ``--runs``
calls after a warm-up, and the resident memory once every model is loaded. With ``--torch`` the
same pipeline runs on the torch checkpoint (``runs/<kind>/best.pt``) in eager mode: the engine's
own code with torch in place of the onnxruntime sessions, so the inputs, latents and uniforms are
the same. Both run on one thread.

torch is imported only on the ``--torch`` path.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import platform
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

import lab_cli
from beatguide.demo import tasks
from beatguide.engine import Engine, OnnxModel, Request
from beatguide.errors import TrainExtraError
from beatguide.grid import HITS
from beatguide.model_paths import model_dirs

THREADS = 1
WARMUP = 10
TARGET_1_MS, TARGET_8_MS, TARGET_SPEEDUP = 5.0, 15.0, 3.0


# ------------------------------------------------------------------------------------------------
# Measurements


@dataclass
class Row:
    """One model and task: milliseconds; the torch fields stay None when torch is not timed."""

    model: str
    task: str
    load_ms: float
    p50_1: float
    p99_1: float
    p50_8: float
    p99_8: float
    torch_p50_1: float | None = None
    torch_p50_8: float | None = None

    @property
    def speedup_1(self) -> float | None:
        return None if self.torch_p50_1 is None else self.torch_p50_1 / self.p50_1

    @property
    def speedup_8(self) -> float | None:
        return None if self.torch_p50_8 is None else self.torch_p50_8 / self.p50_8


@dataclass
class Report:
    rows: list[Row]
    machine: dict
    engine_load_ms: float
    rss_mb: float  # resident memory after loading every model
    models_mb: float  # of which the models (RSS after minus before loading)
    runs: int
    warmup: int
    notes: list[str] = field(default_factory=list)


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), or its peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if platform.system() == "Darwin" else peak / 1024


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load": load,
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def latency(engine: Engine, model: str, task: dict, variations: int, runs: int, warmup: int = WARMUP) -> tuple:
    """(p50, p99) in ms of ``engine.generate`` over ``runs`` calls with seeds 0..runs-1."""
    for i in range(warmup):
        engine.generate(Request(model, variations, seed=i, **task))
    times = [engine.generate(Request(model, variations, seed=i, **task)).elapsed_ms for i in range(runs)]
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


class TorchModel:
    """A torch DrumVAE behind the OnnxModel interface (numpy in and out), so ``Engine.generate``
    runs the very same pipeline on it."""

    def __init__(self, model, like: OnnxModel):
        import torch

        self.torch, self.model = torch, model
        self.name, self.kind, self.meta, self.latents = like.name, like.kind, like.meta, like.latents
        self.capabilities, self.bank, self.bank_steps = like.capabilities, like.bank, like.bank_steps
        self.bank_hits, self.bank_groups = like.bank_hits, like.bank_groups
        self.prior, self.uniform_width, self.feel, self.levels = like.prior, like.uniform_width, like.feel, like.levels
        self.critic = like.critic  # the exported critic picks among the torch decoder's draws alike

    gestures = OnnxModel.gestures
    default_source = OnnxModel.default_source

    def encode(self, gestures: dict) -> dict:
        with self.torch.no_grad():
            post = self.model.encode({g: self.torch.from_numpy(v) for g, v in gestures.items()})
        return {name: (mu.numpy(), sigma.numpy()) for name, (mu, sigma) in post.items()}

    def decode(self, z: np.ndarray, uniforms: np.ndarray, temperature: float, hit_control: np.ndarray) -> np.ndarray:
        t = self.torch
        with t.no_grad():
            return self.model.sample(
                t.from_numpy(z), t.from_numpy(uniforms), t.tensor(temperature), t.from_numpy(hit_control)
            ).numpy()

    def reconstruct(self, z: np.ndarray) -> dict:
        from beatguide_export.models import activate

        if not len(self.model.aux):
            return {}
        with self.torch.no_grad():
            raw = self.model.reconstruct(self.model.split(self.torch.from_numpy(z)))
            rec = {g: activate(g, r).numpy() for g, r in raw.items()}
        if "lanes" in rec:
            rec["score"] = np.swapaxes(rec.pop("lanes"), 1, 2)
        return rec


def load_torch_models(engine: Engine, runs_dir: Path) -> tuple[dict, list[str]]:
    """{model name: torch model} from ``runs_dir/<kind>/best.pt``, and notes on the models skipped."""
    try:
        import torch  # noqa: F401  (the train extra)

        from beatguide_export.onnx_export import load_run
    except ImportError as e:
        raise TrainExtraError("timing torch", e) from None
    found, notes = {}, []
    for name in engine.names:
        kind = engine.models[name].kind
        try:
            found[name] = load_run(Path(runs_dir) / kind)[0]
        except Exception as e:  # a missing or unreadable checkpoint skips that model, it does not stop the bench
            notes.append(f"{name}: torch skipped ({str(e).splitlines()[0].rstrip(':')})")
    return found, notes


def torch_twin(engine: Engine, torch_models: dict, notes: list) -> Engine:
    """A copy of ``engine`` running ``torch_models`` ({name: DrumVAE}) in eager mode; a checkpoint whose
    architecture differs from the exported model is left out (said in ``notes``)."""
    twin = copy.copy(engine)
    twin.models = {}
    for name, tm in torch_models.items():
        like = engine.models.get(name)
        if like is None:
            continue
        n_params = sum(p.numel() for p in tm.parameters())
        if tm.z_size != like.meta["z_size"] or n_params != like.meta.get("parameters", n_params):
            notes.append(f"{name}: torch skipped (the checkpoint's architecture differs from the exported model)")
            continue
        twin.models[name] = TorchModel(tm.eval(), like)
    return twin


def run_bench(models_dir, runs: int = 200, torch_models=None, warmup: int = WARMUP) -> Report:
    """Measure every model of ``models_dir`` (a folder or a list of folders, as ``Engine`` takes).
    ``torch_models`` adds torch eager: {model name: DrumVAE}, or a runs folder to load them from
    (after the memory is measured)."""
    before = rss_mb()
    t0 = time.perf_counter()
    engine = Engine(models_dir, threads=THREADS)
    engine_load_ms = (time.perf_counter() - t0) * 1000
    after = rss_mb()
    load_ms = {}  # each model on its own (a second load: files cached, onnxruntime initialised)
    for name, m in engine.models.items():
        t0 = time.perf_counter()
        OnnxModel(m.folder, THREADS)
        load_ms[name] = (time.perf_counter() - t0) * 1000

    torch_engine, notes, info = None, [], {}
    if isinstance(torch_models, (str, Path)):
        torch_models, notes = load_torch_models(engine, torch_models)
    if torch_models:
        import torch

        torch.set_num_threads(THREADS)
        info["torch"] = torch.__version__
        torch_engine = torch_twin(engine, torch_models, notes)

    rows = []
    for name in engine.names:
        for task_name, task in tasks(engine.capabilities(name)).items():
            row = Row(
                name,
                task_name,
                load_ms[name],
                *latency(engine, name, task, 1, runs, warmup),
                *latency(engine, name, task, 8, runs, warmup),
            )
            if torch_engine is not None and name in torch_engine.models:
                row.torch_p50_1 = latency(torch_engine, name, task, 1, runs, warmup)[0]
                row.torch_p50_8 = latency(torch_engine, name, task, 8, runs, warmup)[0]
                a = engine.generate(Request(name, 8, seed=123, **task)).loops
                b = torch_engine.generate(Request(name, 8, seed=123, **task)).loops
                if not np.array_equal(a[..., HITS], b[..., HITS]):
                    notes.append(
                        f"{name} {task_name}: torch and onnxruntime hits differ (is the checkpoint the exported one?)"
                    )
            rows.append(row)
    return Report(rows, {**machine(), **info}, engine_load_ms, after, after - before, runs, warmup, notes)


# ------------------------------------------------------------------------------------------------
# Output

HEADER = [
    "model",
    "task",
    "load ms",
    "1 var p50",
    "1 var p99",
    "8 var p50",
    "8 var p99",
    "torch 1 p50",
    "torch 8 p50",
    "torch/onnx 1",
    "torch/onnx 8",
    "1 var < 5 ms",
    "8 var < 15 ms",
    "onnx >= 3x",
]


def _ok(passed: bool | None) -> str:
    return "-" if passed is None else ("pass" if passed else "FAIL")


def _cells(r: Row) -> list[str]:
    ms = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    ratio = lambda x: "-" if x is None else f"{x:.1f}x"  # noqa: E731
    speed = None if r.speedup_1 is None else min(r.speedup_1, r.speedup_8) >= TARGET_SPEEDUP
    return [
        r.model,
        r.task,
        f"{r.load_ms:.0f}",
        ms(r.p50_1),
        ms(r.p99_1),
        ms(r.p50_8),
        ms(r.p99_8),
        ms(r.torch_p50_1),
        ms(r.torch_p50_8),
        ratio(r.speedup_1),
        ratio(r.speedup_8),
        _ok(r.p50_1 < TARGET_1_MS),
        _ok(r.p50_8 < TARGET_8_MS),
        _ok(speed),
    ]


def table(report: Report) -> str:
    """The results as an aligned markdown table."""
    rows = [HEADER] + [_cells(r) for r in report.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(rows[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows[1:]])


def summary(report: Report) -> str:
    m = report.machine
    return (
        f"{m['cpu']}, {m['cores']} cores (load {m['load']:.2f}); Python {m['python']}, "
        f"onnxruntime {m['onnxruntime']}, numpy {m['numpy']}; {m['date']}\n"
        f"{report.runs} timed calls per cell after {report.warmup} warm-up calls, {THREADS} thread; "
        f"all models loaded in {report.engine_load_ms:.0f} ms, RSS {report.rss_mb:.0f} MB "
        f"({report.models_mb:.0f} MB for the models)"
    )


def markdown(report: Report) -> str:
    m = report.machine
    torch_line = f", torch {m['torch']}" if "torch" in m else ""
    out = [
        "# Engine benchmark",
        "",
        "Generated by `python server/lab/bench.py`. Latency is measured inside the engine "
        "(`Engine.generate`: gesture checks, encoders, latent sampling, decoder, auxiliary decoders), "
        f"in ms, over {report.runs} calls after {report.warmup} warm-up calls, with onnxruntime and torch on "
        f"{THREADS} thread. torch eager runs the same pipeline on the training checkpoint with the same "
        "inputs, latents and uniforms.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores (1-minute load average {m['load']:.2f} at the end)",
        f"- Python {m['python']}, onnxruntime {m['onnxruntime']}, numpy {m['numpy']}{torch_line}",
        f"- Date: {m['date']}",
        f"- All models loaded in {report.engine_load_ms:.0f} ms; resident memory after loading them "
        f"{report.rss_mb:.0f} MB ({report.models_mb:.0f} MB of it for the models)",
        "",
        "## Results",
        "",
        table(report),
        "",
        "## Targets",
        "",
        f"- 1 variation under {TARGET_1_MS:g} ms and 8 variations under {TARGET_8_MS:g} ms inside the engine, "
        "judged on p50 (p99 shown beside it).",
        f"- onnxruntime at least {TARGET_SPEEDUP:g}x faster than torch eager (p50 ratio, 1 and 8 variations); "
        "`-` where torch was not run.",
        "- `load ms`: one model's `OnnxModel` construction on its own (files already cached).",
    ]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = lab_cli.parser(
        "bench.py", "Time the engine on every model: onnxruntime, and torch eager with --torch.", models=True
    )
    ap.add_argument("--runs", type=lab_cli.at_least_one, default=200, help="timed calls per model and variation count")
    ap.add_argument("--torch", action="store_true", help="also time torch eager from the training checkpoints")
    ap.add_argument(
        "--torch-runs",
        type=Path,
        default=Path("runs"),
        help="run folders for --torch, one per model kind (where train writes)",
    )

    def measure(args) -> str:
        report = run_bench(model_dirs(args.models), args.runs, args.torch_runs if args.torch else None)
        print(summary(report))
        print(table(report))
        for n in report.notes:
            print(f"note: {n}")
        return markdown(report)

    return lab_cli.report(ap, argv, measure, show=False)


if __name__ == "__main__":
    raise SystemExit(main())
