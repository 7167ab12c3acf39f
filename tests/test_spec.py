"""The device spec and the protocol test vectors: one source of truth, and both halves agree with it."""

from __future__ import annotations

import json

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
