"""server/lab/bench_start.py: one real start of the server, timed and measured."""

from __future__ import annotations

import re
import shutil

import pytest

from bench_start import main


@pytest.mark.skipif(shutil.which("ps") is None, reason="bench_start.py reads memory with ps")
def test_one_start_is_timed_and_measured(tmp_path, capsys):
    out = tmp_path / "start.md"
    assert main(["--starts", "1", "--out", str(out)]) == 0
    text = out.read_text()
    row = re.search(r"^\| 1 \| ([\d.]+) \| (\d+) \| (\d+) \|$", text, re.M)
    assert row, text
    seconds, rss_ready, rss_used = float(row[1]), int(row[2]), int(row[3])
    assert 0 < seconds < 120 and 20 < rss_ready <= rss_used + 50
    assert "start 1: first pong after" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["--starts", "0"])
    assert e.value.code == 2


def test_an_earlier_report_is_kept_unless_forced(tmp_path, capsys):
    out = tmp_path / "start.md"
    out.write_text("kept")
    with pytest.raises(SystemExit) as e:
        main(["--out", str(out)])
    assert e.value.code == 2 and "give --force to overwrite" in capsys.readouterr().err and out.read_text() == "kept"
