"""Where models are found, in search order (the first model of a name wins):

1. folders given on the command line (``--models DIR``, repeatable);
2. folders in ``$BEATGUIDE_MODELS`` (separated like ``PATH``: ``:`` or ``;`` on Windows);
3. the per-user models folder (:func:`user_models_dir`), always searched, so models exported or
   fine-tuned later appear without touching the install;
4. the models shipped in the package (``beatguide.models``, the repository's ``models/`` folder
   mapped into the wheel at build time), read through ``importlib.resources``.

A model is a sub-folder holding ``model.json``.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from platformdirs import user_data_path

from .errors import InputError

ENV = "BEATGUIDE_MODELS"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # a model's name: a plain folder name


def user_models_dir() -> Path:
    """The per-user models folder: ~/.local/share/beatguide/models on Linux,
    ~/Library/Application Support/beatguide/models on macOS, %LOCALAPPDATA%\\beatguide\\models on Windows."""
    return user_data_path("beatguide", appauthor=False) / "models"


def bundled_models_dir() -> Path | None:
    """The models shipped in the package, or None when this install has none (a source tree on PYTHONPATH)."""
    try:
        root = resources.files("beatguide.models")
    except ModuleNotFoundError:
        return None
    return root if isinstance(root, Path) and root.is_dir() else None  # pip always unpacks wheels


def env_models_dirs() -> list[Path]:
    return [Path(p).expanduser() for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]


def model_dirs(extra=()) -> list[Path]:
    """The folders searched for models, in order, without repeats. Folders given explicitly
    (``extra``, ``$BEATGUIDE_MODELS``) must exist: a typo is an error, not an empty search."""
    given = [Path(p).expanduser() for p in extra or ()] + env_models_dirs()
    for p in given:
        if not p.is_dir():
            raise InputError(f"no models folder at {p}")
    out: list[Path] = []
    for p in given + [user_models_dir(), bundled_models_dir()]:
        if p is not None and p.resolve() not in {q.resolve() for q in out}:
            out.append(p)
    return out
