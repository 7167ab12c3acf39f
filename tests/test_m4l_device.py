"""The Max for Live device: build it, check it against Max's real objects, run its Node tests."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from beatguide import protocol

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "m4l_device"
DOCS = ROOT / "docs" / "device.md"
# The static checker and Ableton's .amxd reader live beside the repository in this workspace only (../shared).
TOOLS = ROOT.parent / "shared" / "tools"
CHECKER = Path(os.environ.get("BG_MAXPAT_CHECK", TOOLS / "maxpat_check.py"))
MAXDIFF = Path(os.environ.get("BG_MAXDIFF", TOOLS / "maxdiff"))

sys.path.insert(0, str(DEVICE))
from frozen import read_frozen  # noqa: E402
from patcher import JS_FILES, LAUNCHER, patcher  # noqa: E402

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("device")
    subprocess.run([sys.executable, str(DEVICE / "build.py"), "--out", str(out), "--unfrozen"], check=True)
    return out


def test_build_writes_the_frozen_device_and_the_unfrozen_fallback(built):
    data = (built / "Beat Guide.amxd").read_bytes()
    assert data[:12] == b"ampf\x04\x00\x00\x00mmmm"
    loose = built / "unfrozen"
    assert (loose / "Beat Guide.amxd").read_bytes()[:12] == data[:12]
    for name in (*JS_FILES, LAUNCHER):
        assert (loose / name).is_file(), name
        assert not (built / name).exists(), f"{name}: the frozen device needs no loose script beside it"
    spec = (loose / "bg_spec.js").read_text()
    assert json.loads(spec[spec.index("{") : spec.rindex("}") + 1]) == protocol.device_spec()


def test_frozen_device_embeds_every_script_byte_for_byte(built):
    entries = read_frozen((built / "Beat Guide.amxd").read_bytes())
    assert entries[0]["name"] == "Beat Guide.amxd" and entries[0]["flag_value"] == 0x11
    device = json.loads(entries[0]["data"][:-1])["patcher"]
    assert entries[0]["data"] == (built / "unfrozen" / "Beat Guide.amxd").read_bytes()[32:]
    names = [e["name"] for e in entries[1:]]
    assert sorted(names) == sorted(d["name"] for d in device["dependency_cache"]) == sorted((*JS_FILES, LAUNCHER))
    for e in entries[1:]:
        source = built / "unfrozen" / e["name"] if e["name"] == "bg_spec.js" else DEVICE / e["name"]
        assert e["data"] == source.read_bytes(), e["name"]
        assert e["flag_value"] == (0x08 if e["name"] == LAUNCHER else 0), e["name"]


def test_frozen_reader_rejects_an_unfrozen_device_and_a_cut_footer(built):
    with pytest.raises(ValueError, match="not a frozen device"):
        read_frozen((built / "unfrozen" / "Beat Guide.amxd").read_bytes())
    data = bytearray((built / "Beat Guide.amxd").read_bytes()[:-4])
    data[28:32] = (int.from_bytes(data[28:32], "little") - 4).to_bytes(4, "little")
    with pytest.raises(ValueError, match="dlst"):
        read_frozen(bytes(data))


def test_build_refuses_to_write_into_the_source_folder():
    proc = subprocess.run(
        [sys.executable, str(DEVICE / "build.py"), "--out", str(DEVICE)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "source folder" in proc.stderr
    assert not (DEVICE / "unfrozen").exists() and (DEVICE / "beatguide.js").is_file()


def test_a_rebuild_removes_the_loose_scripts_of_an_earlier_layout(tmp_path):
    (tmp_path / "beatguide.js").write_text("// an earlier build's copy")
    subprocess.run(
        [sys.executable, str(DEVICE / "build.py"), "--out", str(tmp_path), "--unfrozen"],
        check=True,
        capture_output=True,
    )
    assert not (tmp_path / "beatguide.js").exists() and (tmp_path / "unfrozen" / "beatguide.js").is_file()


def test_a_default_build_holds_one_device_the_frozen_one(tmp_path):
    """Whatever looks for the built .amxd finds the frozen device: the fallback is written only when asked
    (and an earlier build's fallback is removed)."""
    (tmp_path / "unfrozen").mkdir()
    (tmp_path / "unfrozen" / "Beat Guide.amxd").write_bytes(b"an earlier build's")
    subprocess.run([sys.executable, str(DEVICE / "build.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    devices = list(tmp_path.rglob("*.amxd"))
    assert devices == [tmp_path / "Beat Guide.amxd"]
    assert len(read_frozen(devices[0].read_bytes())) == 1 + len((*JS_FILES, LAUNCHER))


@pytest.mark.skipif(not (MAXDIFF / "amxd_textconv.py").is_file(), reason="Ableton's maxdiff reader is not here")
def test_ableton_reader_sees_a_frozen_device_listing_every_file(built):
    """Ableton's own .amxd reader (maxdevtools/maxdiff) reads the device as frozen and lists every
    embedded file with the size of its source."""
    proc = subprocess.run(
        [sys.executable, str(MAXDIFF / "amxd_textconv.py"), str(built / "Beat Guide.amxd")],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert lines[:4] == ["MIDI Effect Device", "-------------------", "Device is frozen", "----- Contents -----"]
    listed = {line.split(":")[0]: line for line in lines[4:] if " bytes, modified at " in line}
    assert listed["Beat Guide.amxd"].endswith("<= Device ")
    for name in (*JS_FILES, LAUNCHER):
        source = built / "unfrozen" / name
        assert f"{name}: {source.stat().st_size} bytes," in listed[name], listed.get(name)
    # The reader finds the files that boxes name; scripts loaded with include() it cannot see.
    for name in ("beatguide.js", "bg_grid.js", LAUNCHER):
        assert listed[name].endswith("1 instance"), listed[name]


@pytest.mark.skipif(not (MAXDIFF / "FrozenTest.amxd").is_file(), reason="Ableton's frozen test device is not here")
def test_frozen_layout_matches_a_device_frozen_by_max(built):
    """Field by field against Ableton's FrozenTest.amxd (frozen by Max): chunk order, meta value,
    header, footer field order, name padding, flags of the device entry and of a Node script."""
    ours, theirs = ((built / "Beat Guide.amxd").read_bytes(), (MAXDIFF / "FrozenTest.amxd").read_bytes())
    assert ours[:24] == theirs[:24], "ampf mmmm, meta 7"
    assert ours[24:28] == theirs[24:28] == b"ptch"
    assert ours[32:40] == theirs[32:40], "mx@c with a 16-byte header"
    mine, max_ = read_frozen(ours), read_frozen(theirs)
    assert [e["fields"] for e in mine] == [max_[0]["fields"]] * len(mine)
    assert (mine[0]["type"], mine[0]["flag"], mine[0]["of32"]) == (max_[0]["type"], max_[0]["flag"], max_[0]["of32"])
    assert mine[0]["data"][-3:] == max_[0]["data"][-3:] == b"}\n\0", "the patcher JSON ends as Max ends it"
    node = next(e for e in max_ if e["name"] == "my-maxnode-basic.js")
    script = next(e for e in max_ if e["name"] == "TestScript.js")
    launcher = next(e for e in mine if e["name"] == LAUNCHER)
    assert (launcher["type"], launcher["flag"]) == (node["type"], node["flag"])
    for e in mine[1:]:
        if e["name"] != LAUNCHER:
            assert (e["type"], e["flag"], e["vers"]) == (script["type"], script["flag"], script["vers"])
    for e in max_ + mine:
        assert len(e["fnam"]) == -(-(len(e["name"]) + 1) // 4) * 4, e["name"]


@pytest.mark.parametrize("device", ["Beat Guide.amxd", "unfrozen/Beat Guide.amxd"])
def test_static_check_finds_no_errors_and_every_warning_is_explained(built, device):
    if not CHECKER.is_file():
        pytest.skip(f"the static checker is not at {CHECKER} (set BG_MAXPAT_CHECK)")
    proc = subprocess.run([sys.executable, str(CHECKER), "--json", str(built / device)], capture_output=True, text=True)
    items = json.loads(proc.stdout)[0]["items"]
    errors = [i for i in items if i["level"] in ("ERROR", "FATAL")]
    assert proc.returncode == 0 and not errors, errors
    docs = DOCS.read_text()
    for w in (i for i in items if i["level"] == "WARN"):
        assert w["msg"] in docs, f"docs/device.md does not explain the checker's warning: {w['where']}: {w['msg']}"


def test_the_patch_follows_the_spec():
    """No lane count, lane mode or port is written into the patch generator: change the spec, the patch follows."""
    spec = copy.deepcopy(protocol.device_spec())
    spec["classes"].append("cowbell")
    spec["lane_modes"] = ["decide", "given"]
    spec["ports"]["server"] = 9555
    boxes = [b["box"] for b in patcher(spec)["patcher"]["boxes"]]
    lanes = [b for b in boxes if b.get("varname", "").startswith("bg_lanemode_")]
    assert len(lanes) == 10
    assert all(b["saved_attribute_attributes"]["valueof"]["parameter_enum"] == ["decide", "given"] for b in lanes)
    assert sum(b.get("varname", "").startswith("bg_pad_") for b in boxes) == 10
    assert any(b.get("text") == "udpsend 127.0.0.1 9555" for b in boxes)
    assert any(b.get("text") == "cowbell" for b in boxes)


def test_the_launcher_slot(tmp_path):
    """With bg_launcher.js present, the device holds one node.script, told the settings by the js
    (outlet 5) and answering into it as ``launcher ...``, and a text field for the server command."""
    patch = patcher(protocol.device_spec(), with_launcher=True)["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patch["boxes"]}
    node = [i for i, b in boxes.items() if b.get("text", "").startswith("node.script bg_launcher.js")]
    js = [i for i, b in boxes.items() if b.get("text") == "js beatguide.js"][0]
    assert len(node) == 1
    cords = [(line["patchline"]["source"], line["patchline"]["destination"]) for line in patch["lines"]]
    assert ([js, 5], [node[0], 0]) in cords
    pre = [d for s, d in cords if s == [node[0], 0]][0][0]
    assert boxes[pre]["text"] == "prepend launcher" and ([pre, 0], [js, 0]) in cords
    field = [i for i, b in boxes.items() if b.get("varname") == "bg_command"][0]
    pre = [d for s, d in cords if s == [field, 0]][0][0]
    assert boxes[pre]["text"] == "prepend server_command" and boxes[field]["outputmode"] == 1
    assert "bg_launcher.js" in [d["name"] for d in patch["dependency_cache"]]
    assert "bg_launcher.js" not in [d["name"] for d in patcher(protocol.device_spec())["patcher"]["dependency_cache"]]


@needs_node
def test_node_tests(built):
    if not (DEVICE / "node_modules" / "acorn").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("m4l_device/node_modules is missing and npm is not installed to run `npm ci`")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(DEVICE)], check=True)
    env = dict(os.environ, BG_DEVICE_DIR=str(built), PYTHON=sys.executable)
    tests = sorted(str(p.relative_to(DEVICE)) for p in (DEVICE / "tests").glob("*.test.js"))
    proc = subprocess.run(["node", "--test", *tests], cwd=DEVICE, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
