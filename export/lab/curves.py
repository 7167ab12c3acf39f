"""One figure with the validation curves of several runs: ``python export/lab/curves.py OUT.png RUN ...``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def plot_runs(runs: list[Path], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for run in runs:
        with open(Path(run) / "learning_curve.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        minutes = [float(r["seconds"]) / 60 for r in rows]
        axes[0].plot(minutes, [float(r["val_hits"]) for r in rows], label=Path(run).name)
        axes[1].plot(minutes, [float(r["val_offset"]) for r in rows], label=Path(run).name)
    axes[0].set_ylabel("validation hit BCE (nats / loop)")
    axes[1].set_ylabel("validation offset squared error / loop")
    for ax in axes:
        ax.set_xlabel("training minutes (2-core CPU)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


if __name__ == "__main__":
    plot_runs([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
