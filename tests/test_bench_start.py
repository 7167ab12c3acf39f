"""beatguide bench --start: one real start of the server, timed and measured."""

from __future__ import annotations

import re
import shutil

import pytest

from beatguide.cli import main


@pytest.mark.skipif(shutil.which("ps") is None, reason="bench --start reads memory with ps")
def test_one_start_is_timed_and_measured(tmp_path, capsys):
    out = tmp_path / "start.md"
    assert main(["bench", "--start", "--starts", "1", "--out", str(out)]) == 0
    text = out.read_text()
    row = re.search(r"^\| 1 \| ([\d.]+) \| (\d+) \| (\d+) \|$", text, re.M)
    assert row, text
    seconds, rss_ready, rss_used = float(row[1]), int(row[2]), int(row[3])
    assert 0 < seconds < 120 and 20 < rss_ready <= rss_used + 50
    assert "start 1: first pong after" in capsys.readouterr().out
    assert main(["bench", "--start", "--starts", "0"]) == 2
