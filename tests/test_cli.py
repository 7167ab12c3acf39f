"""Smoke tests of the command line's heavier commands on tiny inputs: export and eval, and the
parser's rules (no traceback, exit code 2 on a user error; bench is no command: server/lab's scripts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from beatguide.cli import EXIT_USER_ERROR, build_parser, main
from beatguide.engine import Engine


def test_export_a_tiny_run(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from beatguide_export.models import build

    run = tmp_path / "runs" / "baseline"
    run.mkdir(parents=True)
    torch.manual_seed(0)
    m = build("baseline", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1)
    torch.save({"config": m.config.to_dict(), "model": m.state_dict()}, run / "best.pt")
    models = tmp_path / "models"
    assert main(["export", str(run), "--models", str(models), "--name", "tiny"]) == 0
    assert "exported baseline" in capsys.readouterr().out
    assert {"model.json", "encoder.onnx", "decoder.onnx", "MODEL_CARD.md"} <= {
        p.name for p in (models / "tiny").iterdir()
    }
    assert Engine(models).names == ["tiny"]
    assert main(["export", str(tmp_path / "runs" / "missing"), "--models", str(models)]) == EXIT_USER_ERROR
    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    args = ["export", str(run), "--models", str(models), "--name", "tiny2", "--results", str(bad)]
    assert main(args) == EXIT_USER_ERROR
    assert "not a readable results.json" in capsys.readouterr().err and not (models / "tiny2").exists()
    m = build("factorized", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, values="logistic")
    torch.save({"config": m.config.to_dict(), "model": m.state_dict()}, run / "best.pt")
    assert main(["export", str(run), "--models", str(models), "--name", "drawn"]) == 0
    assert "fit its feel: python -m beatguide_export.feel_fit" in capsys.readouterr().out


def test_data_phrases_keeps_the_file_unless_forced(tmp_path, capsys):
    out = tmp_path / "phrases.npz"
    out.write_bytes(b"kept")
    assert main(["data", "phrases", "--gmd", str(tmp_path), "--out", str(out)]) == EXIT_USER_ERROR
    assert "already exists: give --force" in capsys.readouterr().err and out.read_bytes() == b"kept"


def test_eval_on_a_tiny_dataset(fake_gmd, tiny_models, tmp_path, capsys):
    folder, _ = tiny_models
    out = tmp_path / "results"
    argv = [
        "eval",
        "all",
        "--gmd",
        str(fake_gmd),
        "--models",
        str(folder),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    text = (out / "results.md").read_text()
    assert text in capsys.readouterr().out
    for heading in ("Table 1", "Table 2", "Auxiliary readings", "11-input model"):
        assert heading in text, heading
    assert (out / "figure3_swing.png").stat().st_size > 0 and (out / "humanize_offsets.png").stat().st_size > 0
    assert "2 windows" in text


def test_eval_keeps_earlier_results_unless_forced(fake_gmd, tmp_path, capsys):
    """eval writes into the current folder by default and refuses, before any work, to overwrite."""
    assert build_parser().parse_args(["eval", "all"]).out == Path(".")
    out = tmp_path / "results"
    out.mkdir()
    (out / "results.md").write_text("kept")
    assert main(["eval", "all", "--gmd", str(fake_gmd), "--out", str(out)]) == EXIT_USER_ERROR
    assert "results.md already exists: give --force to overwrite" in capsys.readouterr().err
    assert (out / "results.md").read_text() == "kept" and len(list(out.iterdir())) == 1
    (out / "phrases_results.md").write_text("kept too")  # eval phrases guards its own file
    assert main(["eval", "phrases", "--gmd", str(fake_gmd), "--out", str(out)]) == EXIT_USER_ERROR
    assert "phrases_results.md already exists" in capsys.readouterr().err
    assert (out / "phrases_results.md").read_text() == "kept too"


def test_eval_refuses_a_before_file_it_cannot_read(fake_gmd, tmp_path, capsys):
    """--before names an earlier run's results.json: missing or not JSON, a clear error before any work."""
    out = tmp_path / "out"
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    for path in (tmp_path / "missing.json", bad):
        assert (
            main(["eval", "all", "--gmd", str(fake_gmd), "--out", str(out), "--before", str(path)]) == EXIT_USER_ERROR
        )
        assert "not a readable results.json" in capsys.readouterr().err
    assert not out.exists()


def test_usage_errors_exit_2_without_traceback(tmp_path):
    for argv in (["generate"], ["bench"], ["serve", "--port", "70000", "--models", str(tmp_path)]):
        r = subprocess.run([sys.executable, "-m", "beatguide.cli", *argv], capture_output=True, text=True)
        assert r.returncode == EXIT_USER_ERROR and "Traceback" not in r.stderr, (argv, r.stderr)


def test_eval_without_scikit_learn_says_which_extra(fake_gmd, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn raises ImportError
    out = tmp_path / "out"
    assert main(["eval", "realism", "--gmd", str(fake_gmd), "--out", str(out)]) == EXIT_USER_ERROR
    assert "needs scikit-learn, the eval extra" in capsys.readouterr().err
    assert not out.exists()
