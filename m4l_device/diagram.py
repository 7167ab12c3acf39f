"""Draw the built device as an SVG diagram: `python m4l_device/diagram.py [DEVICE.amxd] [--out FILE]`.

Reads the presentation boxes of a built `Beat Guide.amxd` (where each control sits on Live's device
strip, its label, its initial value) and writes plain SVG text, so the producer's guide
(docs/guide.md) always shows the device as built. build.py calls :func:`write_svg` after each
build; tests/test_docs.py checks that the committed docs/device-layout.svg is what this draws.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from frozen import read_frozen

HERE = Path(__file__).resolve().parent
DEFAULT_DEVICE = HERE / "dist" / "Beat Guide.amxd"
DIAGRAM = HERE.parent / "docs" / "device-layout.svg"
STEPS = 32  # grid columns: 2 bars of sixteenths
BEAT = 4  # steps per beat, drawn brighter
MARGIN = 4

# Live's dark theme, roughly
BACKGROUND, PANEL, FIELD, EDGE = "#2f2f2f", "#3c3c3c", "#1f1f1f", "#5a5a5a"
TEXT, DIM, ACCENT = "#d9d9d9", "#999999", "#f2a93b"


def read_patcher(amxd: Path) -> dict:
    """The patcher dict inside an .amxd file: the JSON of its ``ptch`` chunk, or of the device
    entry (the first) when the device is frozen."""
    data = Path(amxd).read_bytes()
    at = data.index(b"ptch")
    (size,) = struct.unpack("<I", data[at + 4 : at + 8])
    body = data[at + 8 : at + 8 + size]
    if body[:4] == b"mx@c":
        body = read_frozen(data)[0]["data"]
    return json.loads(body.rstrip(b"\0"))["patcher"]


def _num(v: float) -> str:
    return f"{v:g}"


def _rgb(color, default: str) -> str:
    if not color:
        return default
    r, g, b = (round(255 * c) for c in color[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _text(x, y, text, *, size=9.0, color=TEXT, anchor="start") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" fill="{color}" '
        f'text-anchor="{anchor}">{escape(str(text))}</text>'
    )


def _rect(x, y, w, h, fill, stroke=EDGE, rx=2) -> str:
    return (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" rx="{rx}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="0.5"/>'
    )


def _value(box: dict) -> dict:
    return box.get("saved_attribute_attributes", {}).get("valueof", {})


def _initial(box: dict):
    v = _value(box)
    return v["parameter_initial"][0] if v.get("parameter_initial_enable") else None


def _menu_text(box: dict) -> str:
    """A Live menu's initial choice; blank for a menu the device fills as it runs (models, pads)."""
    v = _value(box)
    return v["parameter_enum"][int(_initial(box) or 0)] if v.get("parameter_enum") else ""


def _grid(box, x, y, w, h) -> list[str]:
    """The jsui grid: lane rows, then the accent row and the groove strip (heights from its arguments)."""
    accent_h, groove_h = box.get("jsarguments", [0, 0])[:2]
    lanes_h = h - accent_h - groove_h
    out = [_rect(x, y, w, h, FIELD, rx=0)]
    step = w / STEPS
    for s in range(1, STEPS):
        color = EDGE if s % BEAT == 0 else "#333333"
        out.append(
            f'<line x1="{_num(x + s * step)}" y1="{_num(y)}" x2="{_num(x + s * step)}" y2="{_num(y + h)}" '
            f'stroke="{color}" stroke-width="0.5"/>'
        )
    for edge in (y + lanes_h, y + lanes_h + accent_h):
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(edge)}" x2="{_num(x + w)}" y2="{_num(edge)}" stroke="{EDGE}" '
            'stroke-width="0.5"/>'
        )
    return out


def draw_box(box: dict) -> list[str]:
    """SVG elements for one presentation box, by its Max class."""
    x, y, w, h = box["presentation_rect"]
    kind = box["maxclass"]
    size = box.get("fontsize", 9.0)
    if kind == "comment":
        lines = str(box.get("text", "")).split("\n")
        return [
            _text(x + 1, y + size + 1 + i * (size + 2), ln, size=size, color=_rgb(box.get("textcolor"), DIM))
            for i, ln in enumerate(lines)
        ]
    if kind == "live.text":
        return [_rect(x, y, w, h, PANEL), _text(x + w / 2, y + h - 4, box.get("text", ""), size=8, anchor="middle")]
    if kind in ("live.menu", "umenu"):
        return [
            _rect(x, y, w, h, FIELD),
            _text(x + 3, y + h - 3.5, _menu_text(box), size=8.5),
            _text(x + w - 3, y + h - 3.5, "▾", anchor="end", color=DIM),
        ]
    if kind == "live.dial":
        r = min(w, h - 12) / 2 - 2
        cx, cy = x + w / 2, y + 10 + r
        value = _initial(box)
        return [
            _text(cx, y + 8, _value(box).get("parameter_shortname", ""), anchor="middle", color=DIM),
            f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" fill="{FIELD}" stroke="{ACCENT}" stroke-width="1.5"/>',
            _text(cx, cy + 3, "" if value is None else _num(value), anchor="middle", size=8),
        ]
    if kind in ("live.numbox", "number"):  # a plain number box gets its value from the device as it runs
        value = _initial(box)
        shown = "" if value is None else _num(value)
        return [_rect(x, y, w, h, FIELD), _text(x + 3, y + h - 3.5, shown, size=8.5, color=ACCENT)]
    if kind == "live.toggle":
        return [_rect(x, y, w, h, FIELD)]
    if kind == "jsui":
        return _grid(box, x, y, w, h)
    if kind == "textedit":
        return [_rect(x, y, w, h, FIELD)]
    return [_rect(x, y, w, h, PANEL)]  # a class this drawing does not know: its place only


def render_svg(patcher: dict) -> str:
    """The device's presentation view as SVG text (deterministic: same patcher, same bytes)."""
    boxes = [b["box"] for b in patcher["boxes"] if b["box"].get("presentation") and not b["box"].get("hidden")]
    right = max(
        [patcher.get("devicewidth", 0.0)] + [b["presentation_rect"][0] + b["presentation_rect"][2] for b in boxes]
    )
    bottom = max(b["presentation_rect"][1] + b["presentation_rect"][3] for b in boxes)
    width, height = right + 2 * MARGIN, bottom + 2 * MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="{_num(-MARGIN)} {_num(-MARGIN)} {_num(width)} {_num(height)}" '
        'font-family="Arial, Helvetica, sans-serif">',
        f"<title>{escape(patcher.get('description', 'device'))}</title>",
        f'<rect x="{_num(-MARGIN)}" y="{_num(-MARGIN)}" width="{_num(width)}" height="{_num(height)}" fill="{BACKGROUND}"/>',
    ]
    for box in boxes:
        out += draw_box(box)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_svg(amxd: Path, out: Path = DIAGRAM) -> bool:
    """Draw ``amxd`` into ``out``; writes only when the drawing changed. True when it wrote."""
    svg = render_svg(read_patcher(amxd))
    if out.is_file() and out.read_text(encoding="utf-8") == svg:
        return False
    out.write_text(svg, encoding="utf-8")
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "device", type=Path, nargs="?", default=DEFAULT_DEVICE, help="the built .amxd (default: %(default)s)"
    )
    ap.add_argument("--out", type=Path, default=DIAGRAM, help="the SVG to write (default: docs/device-layout.svg)")
    args = ap.parse_args(argv)
    write_svg(args.device, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
