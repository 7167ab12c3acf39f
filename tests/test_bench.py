"""The engine and OSC benchmarks (server/lab): short runs on tiny models, and the engine's without torch."""

import subprocess
import sys
from pathlib import Path

import bench
import bench_osc
from bench import markdown, run_bench

LAB = Path(bench.__file__).parent


def test_bench_tiny_models(tiny_models):
    folder, models = tiny_models
    report = run_bench(folder, runs=3, torch_models=models, warmup=1)
    assert {r.model for r in report.rows} == set(models)
    for r in report.rows:
        for x in (r.load_ms, r.p50_1, r.p99_1, r.p50_8, r.p99_8, r.torch_p50_1, r.torch_p50_8):
            assert x > 0
        assert r.p50_1 <= r.p99_1 and r.p50_8 <= r.p99_8
    assert report.rss_mb > 0 and report.engine_load_ms > 0
    assert not report.notes  # torch and onnxruntime drew the same hits
    md = markdown(report)
    for kind in models:
        assert any(line.startswith(f"| {kind} ") for line in md.splitlines()), kind
    assert "onnxruntime" in md and "## Targets" in md


def test_bench_script_writes_markdown(tiny_models, tmp_path, capsys):
    folder, models = tiny_models
    out = tmp_path / "bench.md"
    assert bench.main(["--models", str(folder), "--runs", "2", "--out", str(out)]) == 0
    md = out.read_text()
    assert sum(line.startswith("| ") for line in md.splitlines()) >= 1 + len(models)
    assert "wrote" in capsys.readouterr().out


def test_bench_imports_without_torch():
    code = (
        f"import sys; sys.path.insert(0, {str(LAB)!r}); sys.modules['torch'] = None; import bench; "
        "assert 'torch' not in sys.modules or sys.modules['torch'] is None"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bench_osc_writes_where_told(models_dir, tmp_path):
    out = tmp_path / "osc.md"
    argv = ["--in-process", "--models", str(models_dir), "--runs", "2", "--steady", "2", "--burst", "2"]
    assert bench_osc.main([*argv, "--clients", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# OSC round-trip benchmark") and "`python server/lab/bench_osc.py" in text
    assert "| agvae2 | 1 | 2 |" in text


def test_a_user_error_is_one_line_and_exit_2(tmp_path):
    """A bad count, or a models folder that is not there: exit status 2, no traceback."""
    for argv in (["--runs", "0"], ["--models", str(tmp_path / "nothing"), "--runs", "1"]):
        r = subprocess.run([sys.executable, str(LAB / "bench.py"), *argv], capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "error:" in r.stderr, (argv, r.stderr)
