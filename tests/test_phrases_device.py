"""The device's phrase controls: Live parameters (saved with the Set) that follow the spec and reach the js."""

from __future__ import annotations

import sys
from pathlib import Path

from beatguide import protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "m4l_device"))
from patcher import DEVICE_WIDTH, patcher  # noqa: E402


def test_bars_fill_timing_and_velocity_are_live_parameters_from_the_spec():
    spec = protocol.device_spec()
    spec["phrase"] = {
        "bars": [2, 4, 8, 16],
        "fill_modes": ["off", "auto"],
        "default_fill": "off",
        "amount": [0, 100, 200],
    }
    p = patcher(spec)["patcher"]
    boxes = {b["box"].get("varname"): b["box"] for b in p["boxes"]}
    value = {
        name: boxes[name]["saved_attribute_attributes"]["valueof"]
        for name in ("bg_bars", "bg_fill", "bg_timing", "bg_velocity")
    }
    assert value["bg_bars"]["parameter_enum"] == ["2 bars", "4 bars", "8 bars", "16 bars"]
    assert value["bg_bars"]["parameter_initial"] == [0]
    assert value["bg_fill"]["parameter_enum"] == ["fill off", "fill auto"] and value["bg_fill"][
        "parameter_initial"
    ] == [0]
    for name in ("bg_timing", "bg_velocity"):
        v = value[name]
        assert (v["parameter_mmin"], v["parameter_mmax"], v["parameter_initial"], v["parameter_unitstyle"]) == (
            0,
            200,
            [100],
            5,
        )
        assert boxes[name]["maxclass"] == "live.numbox"  # compact: the device is narrow
    assert all(v.get("parameter_invisible", 0) == 0 for v in value.values()), "stored with the Set, automatable"
    for name, message in (
        ("bg_bars", "bars"),
        ("bg_fill", "fill"),
        ("bg_timing", "timing"),
        ("bg_velocity", "velocity"),
    ):
        box = boxes[name]
        x, _, w, _ = box["presentation_rect"]
        assert x + w <= DEVICE_WIDTH
        pre = [ln["patchline"]["destination"][0] for ln in p["lines"] if ln["patchline"]["source"][0] == box["id"]]
        assert [b["box"]["text"] for b in p["boxes"] if b["box"]["id"] in pre] == [f"prepend {message}"]
