"""The device spec and the protocol test vectors: one source of truth, and both halves agree with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

import vectors
from beatguide import protocol as P
from beatguide.drums import CLASSES, GM_MAP
from beatguide.engine import LANE_MODES, LATENT_SOURCES
from beatguide.grid import STEPS


def test_spec_is_json_and_matches_the_constants():
    spec = json.loads(json.dumps(P.device_spec()))
    assert spec["protocol_version"] == P.PROTOCOL_VERSION
    assert spec["classes"] == list(CLASSES) and spec["lane_modes"] == list(LANE_MODES)
    assert spec["latent_sources"] == list(LATENT_SOURCES)
    assert spec["grid"]["steps"] == STEPS and spec["grid"]["loop_beats"] == 8
    gen = spec["generate"]
    assert gen["argc"] == P.GENERATE_ARGC == len(gen["types"]) == sum(f["count"] for f in gen["fields"])
    index = {f["name"]: f["index"] for f in gen["fields"]}
    assert (index["lane_masks"], index["lane_modes"], index["accent_mask"]) == (P.A_MASKS, P.A_MODES, P.A_ACCENTS)
    assert spec["ports"]["server"] == P.DEFAULT_SERVER_PORT
    for pitches, cls in zip(spec["pitches"]["gm_input"], range(len(CLASSES))):
        assert all(GM_MAP.class_of(p) == cls for p in pitches[:1])


def conforms(address, args, types):
    shape = P.REPLY_SHAPES[address]
    fixed = len(shape.types())
    repeats = (len(args) - fixed) // max(len(shape.types(1)) - fixed, 1) if shape.repeat else 0
    return types == shape.types(repeats) and len(types) == len(args) and repeats <= shape.max_repeats


def test_vectors_round_trip():
    v = json.loads(json.dumps(vectors.test_vectors()))
    assert {r["name"] for r in v["requests"]} and {r["name"] for r in v["replies"]}
    for r in v["requests"]:
        args, inp = r["args"], r["input"]
        assert len(args) == P.GENERATE_ARGC == len(r["types"])
        m = P.decode_generate(args)  # what the server makes of them
        req = m.request
        assert (m.request_id, req.model, req.latent_source) == (inp["request_id"], inp["model"], inp["latent_source"])
        assert args[P.A_MASKS : P.A_MODES] == inp["lane_masks"]
        if inp["use_score"]:
            assert list(req.lane_modes) == inp["lane_modes"]
            assert [P.steps_to_mask(req.score[:, c]) for c in range(len(CLASSES))] == inp["lane_masks"]
        if inp["use_groove"]:
            np.testing.assert_allclose(req.groove[:, 1], np.array(inp["groove"]["velocities"]), atol=1e-6)
    kinds = set()
    for r in v["replies"]:
        for address, args, types in r["messages"]:
            assert conforms(address, args, types), address
            kinds.add(address)
    assert kinds == set(P.REPLY_SHAPES)
    first = v["replies"][0]["expect"]
    assert first["done"][1] == sum(len(x["notes"]) for x in first["variations"])
    assert first["variations"][1]["notes"] == []  # a variation without notes
    starts = [n[1] for x in first["variations"] for n in x["notes"]]
    assert min(starts) == 0.0 and max(starts) < 8.0


def test_write_vectors(tmp_path):
    path = vectors.write_vectors(tmp_path / "v.json")
    assert json.loads(path.read_text())["spec"]["generate"]["argc"] == P.GENERATE_ARGC


DOC = Path(__file__).resolve().parent.parent / "docs" / "osc-protocol.md"
RANGE = re.compile(r"(-?[\d.]+)\s*(?:-|\.\.)\s*(-?[\d.]+)")


def test_docs_name_the_current_version():
    version = f"protocol, version {P.PROTOCOL_VERSION}"
    assert version in " ".join(P.__doc__.split()) and DOC.read_text(encoding="utf-8").startswith(
        f"# Beat Guide OSC {version}\n"
    )


def test_doc_generate_table_is_the_layout():
    """docs/osc-protocol.md's /bg/generate table says what GENERATE_LAYOUT does: index, type, count and
    name of each field, its names where it is an index into them, its range where the row gives one."""
    text = DOC.read_text(encoding="utf-8")
    assert f"### `/bg/generate` ({P.GENERATE_ARGC} arguments, in this order)" in text
    table = text.split("### `/bg/generate`")[1].split("\n\n")[1]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert len(rows) == len(P.GENERATE_LAYOUT)
    offsets = P.layout_offsets(P.GENERATE_LAYOUT)
    for (index, type_, name, meaning), f in zip(rows, P.GENERATE_LAYOUT):
        first = offsets[f.name]
        assert index == (str(first) if f.count == 1 else f"{first}-{first + f.count - 1}"), f.name
        assert type_ == (f.type if f.count == 1 else f"{f.type} x{f.count}"), f.name
        assert name.replace(" ", "_") == f.name, f.name
        for i, n in enumerate(f.names):
            assert f"{i} `{n}`" in meaning, f.name
        stated = RANGE.search(meaning)
        if stated:
            assert tuple(float(x) for x in stated.groups()) == tuple(f.bounds), f.name


def _signature(fields) -> str:
    return "  ".join(f"{f.type}:{f.name}" + (f" x{f.count}" if f.count > 1 else "") for f in fields)


def test_doc_message_signatures_are_the_shapes():
    """Every request and reply written out in docs/osc-protocol.md as `address  type:name ...` is laid
    out as the tables say."""
    text = " ".join(DOC.read_text(encoding="utf-8").split("\n"))
    for address, fields in P.REQUESTS.items():
        if address != P.GENERATE:  # a table of its own (above)
            assert f"`{address}  {_signature(fields)}`" in text, address
    for shape in P.REPLY_SHAPES.values():
        head, group = f"`{shape.address}  {_signature(shape.fields)}", _signature(shape.repeat)
        assert head + "`" in text or head + f"  ({group}) ...`" in text, shape.address
        if group:
            assert f"`{group}`" in text or f"({group})" in text, shape.address
