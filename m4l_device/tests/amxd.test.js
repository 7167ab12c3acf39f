// Structure of the built device: container, patch cords, JavaScript files (ES5).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const acorn = require("acorn");
const { DEVICE_DIR } = require("./helpers.js");

// The folder the device was built into: BG_DEVICE_DIR (set by tests/test_m4l_device.py), else built here.
function builtDir() {
  if (process.env.BG_DEVICE_DIR) return process.env.BG_DEVICE_DIR;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bg-device-"));
  execFileSync(process.env.PYTHON || "python3", [path.join(DEVICE_DIR, "build.py"), "--out", out]);
  return out;
}

const dir = builtDir();
const bytes = fs.readFileSync(path.join(dir, "Beat Guide.amxd"));

function parsePatch() {
  const len = bytes.readUInt32LE(28);
  return JSON.parse(bytes.subarray(32, 32 + len - 1).toString("utf8")).patcher;
}

test("container: ampf / mmmm / meta / ptch with the JSON's length, null-terminated", () => {
  assert.equal(bytes.toString("ascii", 0, 4), "ampf");
  assert.equal(bytes.readUInt32LE(4), 4);
  assert.equal(bytes.toString("ascii", 8, 12), "mmmm");
  assert.equal(bytes.toString("ascii", 12, 16), "meta");
  assert.equal(bytes.readUInt32LE(16), 4);
  assert.equal(bytes.readUInt32LE(20), 0);
  assert.equal(bytes.toString("ascii", 24, 28), "ptch");
  const len = bytes.readUInt32LE(28);
  assert.equal(bytes.length, 32 + len);
  assert.equal(bytes[bytes.length - 1], 0);
  assert.ok(parsePatch().boxes.length > 50);
});

test("every patch cord joins existing boxes at valid inlets and outlets", () => {
  const patch = parsePatch();
  const boxes = new Map(patch.boxes.map((b) => [b.box.id, b.box]));
  assert.equal(boxes.size, patch.boxes.length, "box ids are unique");
  for (const box of boxes.values()) {
    assert.ok(Number.isInteger(box.numinlets) && Number.isInteger(box.numoutlets), box.id);
    assert.equal(box.outlettype.length, box.numoutlets, box.id);
  }
  for (const { patchline } of patch.lines) {
    const [src, outlet] = patchline.source;
    const [dst, inlet] = patchline.destination;
    assert.ok(boxes.has(src) && boxes.has(dst), JSON.stringify(patchline));
    assert.ok(outlet >= 0 && outlet < boxes.get(src).numoutlets, JSON.stringify(patchline));
    assert.ok(inlet >= 0 && inlet < boxes.get(dst).numinlets, JSON.stringify(patchline));
  }
});

test("the patch holds what the device needs", () => {
  const patch = parsePatch();
  const texts = patch.boxes.map((b) => b.box.text || "");
  for (const t of ["live.thisdevice", "js beatguide.js", "udpsend 127.0.0.1 9010", "udpreceive 9011 @defer 1",
    "midiin", "midiout", "midiparse", "pattr bg_state"]) assert.ok(texts.includes(t), t);
  const names = patch.boxes.filter((b) => b.box.parameter_enable).map((b) => b.box.saved_attribute_attributes.valueof.parameter_longname);
  assert.equal(new Set(names).size, names.length, "parameter names are unique");
  for (const n of ["Model", "Temperature", "Variations", "Seed", "Lock score latent", "Lock groove latent", "Generate",
    "Regenerate", "Capture score", "Capture groove", "Capture accents", "Write aux clips", "Record taps", "Lane kick",
    "Out pitch ride", "Server port", "Reply port"]) assert.ok(names.includes(n), n);
  assert.equal(patch.openinpresentation, 1);
  for (const b of patch.boxes) {
    if (b.box.presentation) {
      const [x, y, w, h] = b.box.presentation_rect;
      assert.ok(x >= 0 && y >= 0 && y + h <= 169 && x + w <= patch.devicewidth, `${b.box.id} fits the device strip`);
    }
  }
});

test("every JavaScript file is present, parses as ES5, and the js box has the outlets the script declares", () => {
  const patch = parsePatch();
  const files = patch.boxes.map((b) => b.box).flatMap((box) =>
    box.maxclass === "jsui" ? [box.filename] : /^js /.test(box.text || "") ? [box.text.split(" ")[1]] : []);
  const included = [];
  for (const f of files) {
    const src = fs.readFileSync(path.join(dir, f), "utf8");
    for (const m of src.matchAll(/^include\("([^"]+)"\)/gm)) included.push(m[1]);
  }
  assert.deepEqual(included, ["bg_core.js"]);
  for (const f of files.concat(included)) {
    const src = fs.readFileSync(path.join(dir, f), "utf8");
    assert.doesNotThrow(() => acorn.parse(src, { ecmaVersion: 5 }), f);
    const box = patch.boxes.map((b) => b.box).find((b) => b.filename === f || b.text === `js ${f}`);
    if (box) {
      assert.equal(box.numoutlets, +/^outlets = (\d+);/m.exec(src)[1], `${f} outlets`);
      assert.equal(box.numinlets, +/^inlets = (\d+);/m.exec(src)[1], `${f} inlets`);
    }
  }
  assert.deepEqual(patch.dependency_cache.map((d) => d.name).sort(), [...new Set(files.concat(included))].sort());
});
