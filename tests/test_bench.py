"""The engine benchmark: a short run on tiny models, and its import without torch."""

import subprocess
import sys

from beatguide.bench import markdown, run_bench
from beatguide.cli import main


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


def test_bench_cli_writes_markdown(tiny_models, tmp_path, capsys):
    folder, models = tiny_models
    out = tmp_path / "bench.md"
    assert main(["bench", "--models", str(folder), "--runs", "2", "--out", str(out)]) == 0
    md = out.read_text()
    assert sum(line.startswith("| ") for line in md.splitlines()) >= 1 + len(models)
    assert "wrote" in capsys.readouterr().out


def test_bench_imports_without_torch():
    code = "import sys; sys.modules['torch'] = None; import beatguide.bench; assert 'torch' not in sys.modules or sys.modules['torch'] is None"
    subprocess.run([sys.executable, "-c", code], check=True)
