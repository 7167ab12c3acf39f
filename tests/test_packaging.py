"""Packaging and model discovery: the wheel holds every package, py.typed and the models, and no lab
script; the search path is --models, $BEATGUIDE_MODELS, the user's models folder, the shipped models."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from beatguide import model_paths
from beatguide.cli import main
from beatguide.engine import Engine
from beatguide.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
LAB_SCRIPTS = sorted((ROOT / "server" / "lab").glob("*.py")) + sorted((ROOT / "export" / "lab").glob("*.py"))


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A fresh per-user data folder (platformdirs reads XDG_DATA_HOME on Linux)."""
    if sys.platform != "linux":
        pytest.skip("the user folder is redirected through XDG_DATA_HOME, a Linux convention")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(model_paths.ENV, raising=False)
    return tmp_path / "data" / "beatguide" / "models"


def test_search_order(tmp_path, monkeypatch, user_dir):
    a, b, c = (tmp_path / n for n in "abc")
    for d in (a, b, c):
        d.mkdir()
    monkeypatch.setenv(model_paths.ENV, f"{b}{os.pathsep}{c}")
    dirs = model_paths.model_dirs([a, b])
    assert dirs[:4] == [a, b, c, user_dir]  # b given twice: searched once, where first named
    assert dirs[4:] == [p for p in [model_paths.bundled_models_dir()] if p is not None]
    assert model_paths.model_dirs()[:3] == [b, c, user_dir]


def test_a_missing_given_folder_is_an_error(tmp_path, monkeypatch, user_dir):
    with pytest.raises(InputError, match="no models folder at"):
        model_paths.model_dirs([tmp_path / "typo"])
    monkeypatch.setenv(model_paths.ENV, str(tmp_path / "typo"))
    with pytest.raises(InputError, match="typo"):
        model_paths.model_dirs()


def test_the_user_folder_need_not_exist(user_dir):
    assert not user_dir.exists() and user_dir in model_paths.model_dirs()


def test_earlier_folder_wins_and_later_models_are_added(tmp_path, models_dir):
    first = tmp_path / "first"
    shutil.copytree(models_dir / "baseline", first / "baseline")
    engine = Engine([first, models_dir])
    assert engine.models["baseline"].folder == first / "baseline"
    assert set(engine.names) == {p.parent.name for p in models_dir.glob("*/model.json")}


def test_a_model_in_the_user_folder_is_found(tmp_path, user_dir, models_dir):
    """A model exported later (beatguide export's default destination) is served with the others."""
    shutil.copytree(models_dir / "baseline", user_dir / "baseline")
    engine = Engine(model_paths.model_dirs([models_dir]))
    assert engine.models["baseline"].folder == models_dir / "baseline"  # --models comes first
    engine = Engine(model_paths.model_dirs())
    assert "baseline" in engine.names


def test_no_models_anywhere(tmp_path):
    with pytest.raises(Exception, match="no models in"):
        Engine([tmp_path])


def test_gmd_needs_a_flag_or_the_env(monkeypatch, capsys):
    monkeypatch.delenv("BEATGUIDE_GMD", raising=False)
    assert main(["data", "build"]) == 2
    err = capsys.readouterr().err
    assert "--gmd" in err and "BEATGUIDE_GMD" in err and "magenta.tensorflow.org/datasets/groove" in err


def test_lab_script_names_are_unique():
    """Both lab folders are on the tests' import path: a script's name is its module's."""
    stems = [p.stem for p in LAB_SCRIPTS]
    assert {"bench", "vectors", "ablation"} <= set(stems) and len(stems) == len(set(stems))


def test_wheel_holds_every_package_py_typed_and_the_models_and_no_lab(tmp_path):
    """Build the wheel from a copy of the sources (no network: the installed setuptools) and read it:
    the two packages and the models, and no study or benchmark (server/lab, export/lab)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("server", "export", "models"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("beatguide-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    def packages(top: Path, prefix: str):
        return {f"{prefix}/{p.relative_to(top).as_posix()}" for p in top.rglob("*.py") if "__pycache__" not in p.parts}

    expected = packages(ROOT / "server" / "beatguide", "beatguide") | packages(
        ROOT / "export" / "beatguide_export", "beatguide_export"
    )
    expected |= {"beatguide/py.typed", "beatguide/phrases.npz", "beatguide/models/__init__.py"}
    expected |= {
        f"beatguide/models/{p.relative_to(ROOT / 'models').as_posix()}"
        for p in (ROOT / "models").glob("*/*")
        if p.is_file()
    }
    assert any(n.endswith("/model.json") for n in expected) and "beatguide/evaluate/report.py" in expected
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"beatguide", "beatguide_export"}
    lab = {p.stem for p in LAB_SCRIPTS}
    assert not [n for n in names if n.endswith(".py") and Path(n).stem in lab], "a lab script in the wheel"
