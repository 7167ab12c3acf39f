"""The producer's path through the command line, run as a producer runs it: the installed
``beatguide`` script (and ``python -m beatguide.client``) in a subprocess, from a temporary folder
outside the clone, with a fresh per-user data folder. Every failure is one line and exit status 2
(1 for "no server answers"), never a traceback, and nothing is written where it should not be."""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from beatguide.errors import TORCH_CPU_INDEX
from beatguide.generate import RANDOM_SEEDS

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("beatguide")
sys.path.insert(0, str(ROOT / "m4l_device"))
from patcher import MAX_SEED  # noqa: E402


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty working folder outside the clone; the per-user models folder redirected into tmp."""
    if not SCRIPT.is_file():
        pytest.skip(f"no beatguide script beside {sys.executable}")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("BEATGUIDE_MODELS", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    assert ROOT not in work.parents
    return work


def run(folder: Path, *args, ok: bool = True, exe=None) -> subprocess.CompletedProcess:
    r = subprocess.run([str(exe or SCRIPT), *map(str, args)], cwd=folder, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr, r.stderr
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def one_error_line(r: subprocess.CompletedProcess, code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_the_readme_command_line_works_from_any_folder(folder):
    """Item 2: `beatguide examples` and the README's generate lines, as written, from outside the clone."""
    block = re.search(r"## Command line.*?```\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    lines = [ln.split("#")[0].strip() for ln in block.splitlines()]
    lines = [ln for ln in lines if ln.startswith(("beatguide examples", "beatguide generate"))]
    assert lines[0] == "beatguide examples" and len(lines) >= 4
    for line in lines:
        run(folder, *shlex.split(line)[1:])
    assert sorted(p.name for p in (folder / "examples").iterdir()) == ["accents.mid", "beat.mid", "taps.mid"]
    assert {f"agvae2_v{v}.mid" for v in range(1, 5)} <= {p.name for p in (folder / "agvae2_seed7").iterdir()}
    assert any((folder / "lanes").glob("agvae11_v1.mid")) and any((folder / "accents").glob("agvae11_v1.mid"))


def test_a_random_seed_is_printed_named_and_repeats(folder):
    """Item 3: no --seed draws one (0-99999, the device's Seed range), printed, in the folder and the
    track names; --seed repeats the loops exactly."""
    run(folder, "examples")
    seeds = []
    for _ in range(2):
        out = run(folder, "generate", "--score", "examples/beat.mid").stdout
        seeds.append(int(re.search(r"with seed (\d+) \(--seed \1 repeats it", out).group(1)))
    assert seeds[0] != seeds[1] and all(0 <= s < RANDOM_SEEDS for s in seeds)
    assert RANDOM_SEEDS == MAX_SEED + 1
    first = folder / f"agvae2_seed{seeds[0]}"
    track = mido.MidiFile(first / "agvae2_v1.mid").tracks[0]
    assert track[0].type == "track_name" and track[0].name == f"agvae2_v1 seed {seeds[0]}"
    run(folder, "generate", "--score", "examples/beat.mid", "--seed", seeds[0], "--out", "again")
    for f in first.iterdir():
        assert (folder / "again" / f.name).read_bytes() == f.read_bytes(), f.name


def test_version_matches_the_package(folder):
    out = run(folder, "--version").stdout.strip()
    assert out == f"beatguide {importlib.metadata.version('beatguide')}"


def test_help_from_the_script(folder):
    text = " ".join(run(folder, "generate", "--help").stdout.split())
    assert "(default: 4)" in text and "(default: agvae2)" in text and "docs/guide.md" in text


def test_the_refusal_to_overwrite_says_how(folder):
    """Item 5: the same seed twice into the same folder: refused (exit 2, nothing changed), --force allowed."""
    run(folder, "examples")
    run(folder, "generate", "--score", "examples/beat.mid", "--seed", "3")
    stamp = {p.name: p.stat().st_mtime_ns for p in (folder / "agvae2_seed3").iterdir()}
    line = one_error_line(run(folder, "generate", "--score", "examples/beat.mid", "--seed", "3", ok=False))
    assert "already holds agvae2_v1.mid" in line and "--force" in line and "--out" in line
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "agvae2_seed3").iterdir()} == stamp
    run(folder, "generate", "--score", "examples/beat.mid", "--seed", "3", "--force")
    run(folder, "examples")  # the same files again: nothing to refuse
    (folder / "examples" / "taps.mid").write_bytes(b"mine")
    assert "taps.mid" in one_error_line(run(folder, "examples", ok=False))
    assert (folder / "examples" / "taps.mid").read_bytes() == b"mine"
    run(folder, "examples", "--force")
    assert (folder / "examples" / "taps.mid").read_bytes() == (ROOT / "examples" / "taps.mid").read_bytes()


def test_eval_never_overwrites_a_report_unasked(folder):
    (folder / "results.md").write_text("kept")
    line = one_error_line(run(folder, "eval", "all", "--gmd", folder, ok=False))
    assert "results.md already exists" in line and "--force" in line
    assert (folder / "results.md").read_text() == "kept"


def test_a_midi_file_with_0_ticks_per_beat_is_refused(folder):
    """Item 9: a header that says 0 ticks per beat is a corrupt file: exit 2, a clear line, nothing written."""
    track = mido.MidiTrack([mido.Message("note_on", note=36, velocity=100, time=0)])
    track.append(mido.Message("note_off", note=36, velocity=0, time=120))
    good = mido.MidiFile(ticks_per_beat=480)
    good.tracks.append(track)
    good.save(folder / "good.mid")
    data = bytearray((folder / "good.mid").read_bytes())
    assert data[12:14] == (480).to_bytes(2, "big")
    data[12:14] = b"\0\0"  # the header's division
    (folder / "zero.mid").write_bytes(bytes(data))
    line = one_error_line(run(folder, "generate", "--score", "zero.mid", "--out", "out", ok=False))
    assert "zero.mid: a corrupt MIDI file (its header gives 0 ticks per beat)" in line
    assert not (folder / "out").exists()


def test_client_ping_without_a_server_is_one_line(folder):
    """Item 7: python -m beatguide.client ping with nothing listening: one line, exit status 1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run(
        [sys.executable, "-m", "beatguide.client", "ping", "--port", str(port), "--timeout", "0.3"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = one_error_line(r, code=1)
    assert line.startswith("beatguide.client: no reply") and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "argv",
    [["train", "agvae2", "--gmd", "."], ["export", "run"], ["finetune", "agvae2", "--midi", ".", "--name", "x"]],
)
def test_without_torch_the_advice_fits_a_wheel_install(folder, argv):
    """Item 7: without torch, the commands that need it name the extra and PyTorch's CPU index."""
    code = f"import sys; sys.modules['torch'] = None; from beatguide.cli import main; sys.exit(main({argv!r}))"
    r = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=60)
    line = one_error_line(r)
    assert f"pip install 'beatguide[train]' --extra-index-url {TORCH_CPU_INDEX}" in line and "-e" not in line.split()


def test_export_never_hides_a_shipped_model_unasked(folder, capsys):
    """Item 6: export into the user's models folder under a shipped model's name is refused; --name
    picks another (served at once), a second export of that name needs --replace, a folder only
    --models names takes any name; the script prints no torch warning."""
    torch = pytest.importorskip("torch")
    from beatguide import model_paths
    from beatguide.cli import main
    from beatguide.engine import Engine
    from beatguide_export.models import build

    run_dir = folder / "runs" / "baseline"
    run_dir.mkdir(parents=True)
    torch.manual_seed(0)
    m = build("baseline", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1)
    torch.save({"config": m.config.to_dict(), "model": m.state_dict()}, run_dir / "best.pt")
    user = model_paths.user_models_dir()
    assert folder.parent in user.parents
    line = one_error_line(run(folder, "export", run_dir, ok=False))
    assert "'baseline' is a shipped model" in line and "--name" in line and "--replace" in line
    assert not user.exists() or not any(user.iterdir())
    assert "to " + str(user / "mine") in run(folder, "export", run_dir, "--name", "mine").stdout  # no warning
    assert main(["export", str(run_dir), "--name", "mine"]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--name", "mine", "--replace"]) == 0
    assert sorted(p.name for p in user.iterdir()) == ["mine"]
    other = folder / "study"  # a folder only --models names: the shipped name hides nothing there
    assert main(["export", str(run_dir), "--models", str(other)]) == 0 and (other / "baseline").is_dir()
    assert Engine(model_paths.model_dirs()).models["mine"].folder == user / "mine"
