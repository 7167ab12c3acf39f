"""The Beat Guide device patch, described in code: `patcher()` returns the Max patcher dict.

Every box states its inlet and outlet counts; `build.py` wraps the JSON in the `.amxd` container.
Presentation mode fits Live's device strip (169 px high).
"""

from __future__ import annotations

LANES = ("kick", "snare", "closed HH", "open HH", "low tom", "mid tom", "high tom", "crash", "ride")
MODELS = ("baseline", "factorized", "agvae2", "agvae11")
LANE_MODES = ("auto", "given", "empty")  # index = protocol lane mode: 0 model decides, 1 given, 2 empty
DEFAULT_OUTPUT = (36, 38, 42, 46, 45, 48, 50, 49, 51)
JS_OUTLETS = 6  # beatguide.js: osc, udpreceive port, grid view, status, state save, input-class menu
DEVICE_WIDTH = 800
ROW = 14  # grid row height in presentation

# Live's dark theme
TEXT = [0.85, 0.85, 0.85, 1.0]
DIM = [0.6, 0.6, 0.6, 1.0]


class Patch:
    def __init__(self) -> None:
        self.boxes: list[dict] = []
        self.lines: list[dict] = []
        self._y = 20  # patching-view layout cursor

    def box(self, maxclass: str, inlets: int, outlets: int, *, text: str | None = None,
            rect: list[float] | None = None, outlettype: list[str] | None = None, **attrs) -> str:
        ident = f"obj-{len(self.boxes) + 1}"
        box = {"id": ident, "maxclass": maxclass, "numinlets": inlets, "numoutlets": outlets,
               "outlettype": outlettype if outlettype is not None else [""] * outlets,
               "patching_rect": [20.0 + 180 * (len(self.boxes) % 6), float(self._y), 150.0, 22.0]}
        if len(self.boxes) % 6 == 5:
            self._y += 40
        if text is not None:
            box["text"] = text
        if rect is not None:
            box["presentation"] = 1
            box["presentation_rect"] = [float(v) for v in rect]
        box.update(attrs)
        self.boxes.append({"box": box})
        return ident

    def obj(self, text: str, inlets: int, outlets: int, **attrs) -> str:
        return self.box("newobj", inlets, outlets, text=text, **attrs)

    def connect(self, src: str, outlet: int, dst: str, inlet: int = 0) -> None:
        self.lines.append({"patchline": {"source": [src, outlet], "destination": [dst, inlet]}})

    def label(self, text: str, rect: list[float], color=DIM) -> str:
        return self.box("comment", 1, 0, text=text, rect=rect, textcolor=color, fontsize=9.0)


def _param(longname: str, shortname: str, ptype: int, **extra) -> dict:
    """saved_attribute_attributes for a live.* parameter (type 0 float, 1 int, 2 enum, 3 blob)."""
    value = {"parameter_longname": longname, "parameter_shortname": shortname, "parameter_type": ptype}
    value.update(extra)
    return {"parameter_enable": 1, "saved_attribute_attributes": {"valueof": value}}


def _initial(v) -> dict:
    return {"parameter_initial_enable": 1, "parameter_initial": [v]}


def patcher() -> dict:
    p = Patch()
    device = p.obj("live.thisdevice", 1, 3, outlettype=["bang", "int", "int"])
    js = p.obj("js beatguide.js", 1, JS_OUTLETS)
    p.connect(device, 0, js)
    send = p.obj("udpsend 127.0.0.1 9010", 1, 0)
    receive = p.obj("udpreceive 9011 @defer 1", 1, 1)
    p.connect(js, 0, send)
    p.connect(js, 1, receive)
    p.connect(receive, 0, js)

    def control(name: str, box: str, outlet: int = 0) -> None:
        pre = p.obj(f"prepend {name}", 1, 1)
        p.connect(box, outlet, pre)
        p.connect(pre, 0, js)

    def numbox(message: str, rect: list, name: str, short: str, lo: int, hi: int, **extra) -> str:
        """A live.numbox parameter whose value goes to the js as ``message <value>``."""
        box = p.box("live.numbox", 1, 2, rect=rect, outlettype=["", "float"],
                    **_param(name, short, 1, parameter_mmin=lo, parameter_mmax=hi, **extra))
        control(message, box)
        return box

    # Column 1: model and sampling
    p.label("Model", [5, 3, 40, 13])
    model = p.box("live.menu", 1, 3, rect=[40, 3, 78, 15], outlettype=["", "", "float"],
                  **_param("Model", "Model", 2, parameter_enum=list(MODELS), **_initial(2)))
    control("model", model)
    temp = p.box("live.dial", 1, 2, rect=[5, 22, 44, 48], outlettype=["", "float"],
                 **_param("Temperature", "Temp", 0, parameter_mmin=0.05, parameter_mmax=3.0,
                          parameter_unitstyle=1, **_initial(1.0)))
    control("temperature", temp)
    p.label("Variations", [52, 22, 50, 13])
    numbox("variations", [52, 35, 40, 15], "Variations", "Vars", 1, 8, **_initial(4))
    p.label("Seed", [52, 51, 40, 13])
    numbox("seed", [52, 64, 60, 15], "Seed", "Seed", 0, 99999, **_initial(0))
    for i, (name, text) in enumerate((("lock_score", "Lock score latent"), ("lock_groove", "Lock groove latent"))):
        y = 84 + 16 * i
        toggle = p.box("live.toggle", 1, 1, rect=[5, y, 14, 14],
                       **_param(text, text.split()[1].title() + " lock", 2, parameter_enum=["off", "on"]))
        control(name, toggle)
        p.label(text, [22, y, 96, 13])
    status = p.box("comment", 1, 0, text="starting ...", rect=[5, 118, 175, 48], textcolor=TEXT,
                   fontsize=9.0, linecount=4)
    p.connect(js, 3, status)

    # Column 2: actions
    buttons = (("generate", "Generate"), ("regenerate", "Regenerate"), ("capture score", "Capture score"),
               ("capture groove", "Capture groove"), ("capture accents", "Capture accents"),
               ("record_taps", "Record taps"), ("write_aux", "Write aux clips"))
    for i, (message, text) in enumerate(buttons):
        button = p.box("live.text", 1, 2, rect=[120, 3 + 16 * i, 62, 14], outlettype=["", ""],
                       text=text, texton=text, mode=0,
                       **_param(text, text, 2, parameter_enum=["off", "on"]))
        control(message, button)

    # Column 3: lanes (label, mode menu, grid row, output pitch)
    for lane, name in enumerate(LANES):
        y = 3 + ROW * lane
        p.label(name, [186, y, 48, 13], color=TEXT)
        mode = p.box("live.menu", 1, 3, rect=[232, y, 44, 13], outlettype=["", "", "float"],
                     **_param(f"Lane {name}", name, 2, parameter_enum=list(LANE_MODES), **_initial(1)))
        control(f"lanemode {lane}", mode)
        numbox(f"outpitch {lane}", [664, y, 30, 13], f"Out pitch {name}", f"{name} out", 0, 127,
               **_initial(DEFAULT_OUTPUT[lane]))
    p.label("accents", [186, 3 + ROW * 9, 48, 13], color=TEXT)
    p.label("groove", [186, 3 + ROW * 9 + 12, 48, 13], color=TEXT)
    grid = p.box("jsui", 1, 1, filename="bg_grid.js", rect=[278, 3, 384, ROW * 9 + 9 + 22])
    p.connect(js, 2, grid)
    p.connect(grid, 0, js)
    p.label("out", [664, 3 + ROW * 9, 30, 13])

    # Column 4: ports and input drum map
    p.label("Server port", [700, 3, 60, 13])
    numbox("send_port", [700, 16, 50, 15], "Server port", "Srv port", 1024, 65535, **_initial(9010))
    p.label("Reply port", [700, 33, 60, 13])
    numbox("reply_port", [700, 46, 50, 15], "Reply port", "Rpl port", 1024, 65535, **_initial(9011))
    p.label("Input map: pitch -> lane", [700, 70, 95, 26])
    numbox("inpitch", [700, 98, 40, 15], "Map pitch", "Map pitch", 0, 127, parameter_invisible=1, **_initial(36))
    inclass = p.box("live.menu", 1, 3, rect=[700, 116, 70, 15], outlettype=["", "", "float"],
                    **_param("Map lane", "Map lane", 2, parameter_enum=list(LANES) + ["none"],
                             parameter_invisible=1))
    control("inclass", inclass)
    p.connect(js, 5, inclass)

    # State saved with the Live Set: score, groove, accents, input map (a pattr blob).
    state = p.obj("pattr bg_state", 1, 3, outlettype=["", "", ""],
                  **_param("State", "State", 3, parameter_invisible=1))
    p.connect(js, 4, state)
    restore = p.obj("prepend restore", 1, 1)
    p.connect(state, 0, restore)
    p.connect(restore, 0, js)

    # MIDI: pass everything through to the instrument; note-ons also feed tap recording.
    midiin = p.obj("midiin", 1, 1, outlettype=["int"])
    midiout = p.obj("midiout", 1, 0)
    p.connect(midiin, 0, midiout)
    parse = p.obj("midiparse", 1, 8, outlettype=["", "", "", "int", "int", "", "int", ""])
    p.connect(midiin, 0, parse)
    control("tap", parse)

    return {
        "patcher": {
            "fileversion": 1,
            "appversion": {"major": 8, "minor": 5, "revision": 0, "architecture": "x64", "modernui": 1},
            "classnamespace": "box",
            "rect": [100.0, 100.0, 1100.0, 700.0],
            "openinpresentation": 1,
            "default_fontsize": 10.0,
            "default_fontname": "Arial Bold",
            "gridsize": [8.0, 8.0],
            "devicewidth": float(DEVICE_WIDTH),
            "description": "Beat Guide: guide a generative drum model by score, groove and accents.",
            "boxes": p.boxes,
            "lines": p.lines,
            "dependency_cache": [
                {"name": name, "type": "TEXT", "implicit": 1}
                for name in ("beatguide.js", "bg_core.js", "bg_grid.js")
            ],
        }
    }
