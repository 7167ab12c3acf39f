"""The model registry is the one source of the model kinds: the shipped models, the CLI, the device
spec and every other list of kinds agree with it, and no other source file spells a kind's name."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from beatguide import generate, protocol
from beatguide.cli import build_parser
from beatguide.drums import CLASSES, N_CLASSES
from beatguide.evaluate import tap2drum
from beatguide.registry import DEFAULT_MODEL, KINDS, kind
from beatguide.vocabulary import default_lane_mode

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "models").glob("*/model.json"))


def test_kinds_are_named_once():
    assert list(KINDS) == [k.name for k in KINDS.values()] and DEFAULT_MODEL in KINDS
    assert len({k.title for k in KINDS.values()}) == len(KINDS)
    with pytest.raises(ValueError, match="unknown model kind"):
        kind("agvae3")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
def test_shipped_models_agree_with_their_kind(path):
    meta = json.loads(path.read_text())
    k = KINDS[meta["kind"]]
    assert [(lat["name"], lat["gesture"], lat["groups"]) for lat in meta["latents"]] == [
        (lat.name, lat.gesture, lat.groups) for lat in k.latents
    ]
    caps = meta["capabilities"]
    assert caps["gestures"] == meta["encoder_inputs"] == list(k.gestures)
    assert caps["needs"] == k.needs and bool(caps["aux"]) == k.aux
    assert meta["config"]["kind"] == k.name


def test_the_cli_trains_the_registrys_kinds():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert next(a for a in sub.choices["train"]._actions if a.dest == "model").choices == list(KINDS)
    assert parser.parse_args(["generate"]).model == DEFAULT_MODEL


def test_the_device_spec_lists_the_kinds():
    spec = protocol.device_spec()
    assert [k["name"] for k in spec["model_kinds"]] == list(KINDS)
    assert [k["title"] for k in spec["model_kinds"]] == [k.title for k in KINDS.values()]
    assert spec["default_lane_mode"] == default_lane_mode(score_given=True) in spec["lane_modes"]


def test_the_kinds_that_take_a_groove_alone_need_no_score():
    assert set(tap2drum.MODELS) == {n for n, k in KINDS.items() if k.needs != "score"}


def test_one_default_lane_rule():
    """The protocol's client half and offline generation fill unset lanes as the engine does."""
    for score, given in ((None, False), (np.eye(32, 9), True)):
        modes = protocol.decode_generate(protocol.generate_args(1, 9011, DEFAULT_MODEL, score=score)).request.lane_modes
        assert modes == (default_lane_mode(given),) * N_CLASSES
        rest = generate.lane_modes({CLASSES[0]: "exact"}, have_score=given)[1:]
        assert rest == (default_lane_mode(given),) * (N_CLASSES - 1)


def _sources() -> list[Path]:
    """The .py / .js sources of the server, export and device (git's, built files and tests aside)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        files = [ROOT / f for f in out.split()]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in ROOT.rglob("*") if p.is_file()]
    return [
        f
        for f in files
        if f.suffix in (".py", ".js")
        and f.relative_to(ROOT).parts[0] in ("server", "export", "m4l_device")
        and not {"tests", "node_modules"} & set(f.relative_to(ROOT).parts)
    ]


def test_kind_names_are_spelled_only_in_the_registry():
    names = "|".join(map(re.escape, KINDS))
    literal = re.compile(rf"""(["'])({names})\1""")
    found = {
        f"{f.relative_to(ROOT)}:{i}: {m.group(0)}"
        for f in _sources()
        for i, line in enumerate(f.read_text().splitlines(), 1)
        for m in literal.finditer(line)
    }
    registry = {x for x in found if x.startswith("server/beatguide/registry.py:")}
    assert len(registry) == len(KINDS) and found == registry, sorted(found - registry)
