// Structure of the built device: the frozen container and the files it embeds, patch cords, named
// boxes, parameters, JavaScript files (ES5).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const acorn = require("acorn");
const { DEVICE_DIR, buildDir, scriptsDir, frozenFiles, readPatch, load } = require("./helpers.js");
const { allNames } = require("./lom.js");

const dir = scriptsDir();
const { bytes, files, patch } = readPatch();
const SPEC = load("bg_spec.js");
const boxes = patch.boxes.map((b) => b.box);
const byId = new Map(boxes.map((b) => [b.id, b]));
const valueof = (b) => (b.saved_attribute_attributes || {}).valueof || {};
const isParam = (b) => b.maxclass.startsWith("live.") || (b.saved_object_attributes || {}).parameter_enable === 1;
const source = (f) => fs.readFileSync(path.join(dir, f), "utf8");

// The chunks of an .amxd: [tag, little-endian length, data].
function chunks(b) {
  const out = [];
  for (let pos = 0; pos < b.length; pos += 8 + b.readUInt32LE(pos + 4)) {
    out.push([b.toString("ascii", pos, pos + 4), b.readUInt32LE(pos + 4), b.subarray(pos + 8, pos + 8 + b.readUInt32LE(pos + 4))]);
  }
  return out;
}

test("frozen container: ampf mmmm, meta 7, ptch an mx@c archive with its dlst footer at the end", () => {
  const c = chunks(bytes);
  assert.deepEqual(c.map(([tag, len]) => [tag, tag === "ptch" ? "-" : len]), [["ampf", 4], ["meta", 4], ["ptch", "-"]]);
  assert.equal(c[0][2].toString("ascii"), "mmmm");
  assert.equal(c[1][2].readUInt32LE(0), 7);
  const ptch = c[2][2];
  assert.equal(ptch.toString("ascii", 0, 4), "mx@c");
  assert.equal(ptch.readUInt32BE(4), 16);
  const footer = Number(ptch.readBigUInt64BE(8));
  assert.equal(ptch.length - footer, ptch.readUInt32BE(footer + 4), "the footer runs to the end of ptch");
});

test("frozen files: the device first, then every script back to back, fields and flags as Max writes them", () => {
  const scripts = boxes.flatMap((b) => /^(js|node\.script) /.test(b.text || "") ? [b.text.split(" ")[1]] : b.maxclass === "jsui" ? [b.filename] : []);
  assert.equal(files[0].name, "Beat Guide.amxd");
  assert.equal(files[0].flag, 0x11);
  assert.equal(files[0].raw.type.toString("ascii"), "JSON");
  assert.equal(files[0].raw.of32.readUInt32BE(0), 16, "the device's patcher starts right after the header");
  let end = 16;
  for (const f of files) {
    assert.deepEqual(f.fields, ["type", "fnam", "sz32", "of32", "vers", "flag", "mdat"], f.name);
    assert.equal(f.raw.fnam.length, (Buffer.byteLength(f.name) + 1 + 3) & ~3, `${f.name}: null-terminated, padded to 4`);
    assert.equal(f.raw.vers.readUInt32BE(0), 0);
    assert.equal(f.raw.of32.readUInt32BE(0), end, `${f.name} follows the previous file`);
    end += f.data.length;
  }
  for (const f of files.slice(1)) {
    assert.equal(f.raw.type.toString("ascii"), "TEXT", f.name);
    assert.equal(f.flag, f.name === "bg_launcher.js" ? 0x08 : 0, `${f.name}: Node for Max scripts are extracted to disk`);
  }
  const names = files.slice(1).map((f) => f.name);
  assert.deepEqual([...names].sort(), patch.dependency_cache.map((d) => d.name).sort(), "every dependency is embedded");
  for (const s of scripts) assert.ok(names.includes(s), `${s} is embedded`);
});

test("frozen files are byte-identical to their sources (the generated spec to the unfrozen build's)", () => {
  const unfrozen = fs.readFileSync(path.join(dir, "Beat Guide.amxd"));
  assert.deepEqual(chunks(unfrozen).map(([tag]) => tag), ["ampf", "meta", "ptch"]);
  assert.equal(chunks(unfrozen)[1][2].readUInt32LE(0), 0);
  assert.ok(files[0].data.equals(chunks(unfrozen)[2][2]), "the frozen device holds the unfrozen device's patcher");
  for (const f of files.slice(1)) {
    const source = f.name === "bg_spec.js" ? path.join(dir, f.name) : path.join(DEVICE_DIR, f.name);
    assert.ok(f.data.equals(fs.readFileSync(source)), `${f.name} equals ${source}`);
    assert.ok(f.data.equals(fs.readFileSync(path.join(dir, f.name))), `${f.name} equals the unfrozen copy`);
  }
});

test("the frozen reader rejects what is not a frozen device", () => {
  const unfrozen = fs.readFileSync(path.join(dir, "Beat Guide.amxd"));
  assert.throws(() => frozenFiles(unfrozen), /not a frozen device/);
  const cut = Buffer.from(bytes.subarray(0, bytes.length - 4));
  cut.writeUInt32LE(cut.readUInt32LE(28) - 4, 28);
  assert.throws(() => frozenFiles(cut), /dlst/);
});

test("the launcher needs only Node's built-in modules and max-api", () => {
  const { builtinModules } = require("node:module");
  const src = fs.readFileSync(path.join(DEVICE_DIR, "bg_launcher.js"), "utf8");
  const required = [...src.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  assert.ok(required.includes("max-api") && required.length > 3, required.join(" "));
  for (const r of required) assert.ok(r === "max-api" || builtinModules.includes(r.replace(/^node:/, "")), r);
});

test("every patch cord joins existing boxes at valid inlets and outlets", () => {
  assert.equal(byId.size, boxes.length, "box ids are unique");
  for (const box of boxes) {
    assert.ok(Number.isInteger(box.numinlets) && Number.isInteger(box.numoutlets), box.id);
    assert.equal(box.outlettype.length, box.numoutlets, box.id);
  }
  for (const { patchline } of patch.lines) {
    const [src, outlet] = patchline.source;
    const [dst, inlet] = patchline.destination;
    assert.ok(byId.has(src) && byId.has(dst), JSON.stringify(patchline));
    assert.ok(outlet >= 0 && outlet < byId.get(src).numoutlets, JSON.stringify(patchline));
    assert.ok(inlet >= 0 && inlet < byId.get(dst).numinlets, JSON.stringify(patchline));
  }
});

test("the patch holds what the device needs, with the spec's ports", () => {
  const texts = boxes.map((b) => b.text || "");
  for (const t of ["live.thisdevice", "js beatguide.js", `udpsend 127.0.0.1 ${SPEC.ports.server}`,
    `udpreceive ${SPEC.ports.reply} @defer 1 @quiet 1`, "midiin", "midiout", "midiparse", "pattr bg_state", "when", "deferlow"]) {
    assert.ok(texts.includes(t), t);
  }
  assert.equal(patch.openinpresentation, 1);
  for (const b of boxes) {
    if (!b.presentation) continue;
    const [x, y, w, h] = b.presentation_rect;
    assert.ok(x >= 0 && y >= 0 && y + h <= 169 && x + w <= patch.devicewidth, `${b.id} fits the device strip`);
  }
});

test("parameters: named, unique, Int ones within 0-255, buttons Hidden, the state saved as a blob", () => {
  const params = boxes.filter(isParam);
  const names = params.map((b) => valueof(b).parameter_longname);
  assert.equal(new Set(names).size, names.length, "long names are unique");
  for (const n of ["Temperature", "Variations", "Seed", "Lock score latent", "Lock groove latent", "Latents", "Generate",
    "Regenerate", "Capture score", "Capture groove", "Capture accents", "Write aux clips", "Record taps", "Lane kick",
    "Lane ride", "State"]) assert.ok(names.includes(n), n);
  const varnames = boxes.filter((b) => b.varname).map((b) => b.varname);
  assert.equal(new Set(varnames).size, varnames.length, "scripting names are unique");
  for (const b of params) {
    const v = valueof(b);
    assert.ok(b.varname, `${v.parameter_longname} has a scripting name`);
    if (v.parameter_type === 1) {
      for (const k of ["parameter_mmin", "parameter_mmax"]) assert.ok(v[k] >= 0 && v[k] <= 255, `${v.parameter_longname} ${k}`);
    }
    if (b.maxclass === "live.text" && b.mode === 0) assert.equal(v.parameter_invisible, 2, `${v.parameter_longname} is Hidden`);
  }
  const seed = params.find((b) => valueof(b).parameter_longname === "Seed");
  assert.deepEqual([valueof(seed).parameter_type, valueof(seed).parameter_unitstyle], [0, 0], "Seed: Float shown as Int");
  const lane = params.find((b) => valueof(b).parameter_longname === "Lane kick");
  assert.deepEqual(valueof(lane).parameter_enum, SPEC.lane_modes);
  const state = boxes.find((b) => b.text === "pattr bg_state");
  assert.equal(state.parameter_enable, undefined, "not at box level, where Max does not read it for a newobj");
  assert.equal(state.saved_object_attributes.parameter_enable, 1);
  assert.equal(valueof(state).parameter_type, 3);
  for (const name of ["bg_send_port", "bg_reply_port", "bg_model", "bg_pad_0", "bg_inclass"]) {
    const b = boxes.find((x) => x.varname === name);
    assert.ok(b && !isParam(b), `${name} is a plain Max box, not a Live parameter`);
  }
});

test("every box the js addresses by name exists", () => {
  const src = source("beatguide.js");
  const literal = [...src.matchAll(/box\("([^"]+)"\)/g)].map((m) => m[1]);
  const prefixed = [...src.matchAll(/box\("([^"]+)" \+ c\)/g)].map((m) => m[1]);
  assert.ok(literal.length >= 8 && prefixed.length >= 2);
  const names = new Set(boxes.map((b) => b.varname));
  const launcher = boxes.some((b) => (b.text || "").startsWith("node.script bg_launcher.js"));
  for (const n of literal) assert.ok(names.has(n) || (n === "bg_command" && !launcher), n);   // the launcher's field
  for (const p of prefixed) for (let c = 0; c < SPEC.classes.length; c++) assert.ok(names.has(p + c), p + c);
});

test("the grid is shown at its patching size and told its row heights", () => {
  const grid = boxes.find((b) => b.maxclass === "jsui");
  assert.deepEqual(grid.patching_rect.slice(2), grid.presentation_rect.slice(2));
  const [accent, groove] = grid.jsarguments;
  assert.equal(grid.presentation_rect[3], 14 * SPEC.classes.length + accent + groove);
});

test("taps reach the js deferred, with the transport position [when] read at the note", () => {
  const next = (id, outlet) => patch.lines.filter((l) => l.patchline.source[0] === id && l.patchline.source[1] === outlet)
    .map((l) => byId.get(l.patchline.destination[0]));
  const parse = boxes.find((b) => b.text === "midiparse");
  const split = next(parse.id, 0)[0];
  assert.equal(split.text, "t l l");
  assert.equal(next(split.id, 1)[0].text, "when");
  const pack = next(split.id, 0)[0];
  assert.equal(pack.text, "pack 0 0 0.");
  assert.equal(next(next(pack.id, 0)[0].id, 0)[0].text, "deferlow");
  assert.equal(next(next(next(pack.id, 0)[0].id, 0)[0].id, 0)[0].text, "js beatguide.js");
});

test("every JavaScript file is present, parses as ES5, and the js boxes have the outlets the scripts declare", () => {
  const files = boxes.flatMap((box) =>
    box.maxclass === "jsui" ? [box.filename] : /^js /.test(box.text || "") ? [box.text.split(" ")[1]] : []);
  const included = new Set();
  for (const f of files) for (const m of source(f).matchAll(/^include\("([^"]+)"\)/gm)) included.add(m[1]);
  assert.deepEqual([...included].sort(), ["bg_core.js", "bg_kit.js", "bg_live.js", "bg_spec.js"]);
  for (const f of files.concat([...included])) {
    const src = source(f);
    assert.doesNotThrow(() => acorn.parse(src, { ecmaVersion: 5 }), f);
    const box = boxes.find((b) => b.filename === f || b.text === `js ${f}`);
    if (box) {
      assert.equal(box.numoutlets, +/^outlets = (\d+);/m.exec(src)[1], `${f} outlets`);
      assert.equal(box.numinlets, +/^inlets = (\d+);/m.exec(src)[1], `${f} inlets`);
    }
  }
  const node = boxes.filter((b) => /^node\.script /.test(b.text || "")).map((b) => b.text.split(" ")[1]);   // modern Node
  for (const f of node) assert.ok(fs.existsSync(path.join(dir, f)), f);
  assert.deepEqual(patch.dependency_cache.map((d) => d.name).sort(), [...new Set(files.concat([...included], node))].sort());
});

// The Live Object Model names a script uses: properties, calls, observed properties, and with
// `paths` the words of the paths it builds (bg_live.js builds them all).
function lomNames(src, paths) {
  const names = [];
  const grab = (re) => { for (const m of src.matchAll(re)) names.push(...m[1].trim().split(/\s+/)); };
  grab(/\.(?:get|set|call|getcount)\(\s*"([^"]+)"/g);
  grab(/bgFlag\([^,()]+,\s*"([^"]+)"/g);
  grab(/bgWatch\([^,()]+,\s*"([^"]+)"/g);
  grab(/\.property\s*=\s*"([^"]+)"/g);
  grab(/bgApi\(\s*"([^"]+)"/g);
  if (paths) grab(/"\s([a-z_]+(?: [a-z_]+)*)\s?"/g);   // path words joined in: " clip_slots ", " clip"
  return names.filter((n) => !/^\d+$/.test(n));
}

test("every Live API path word, property and call in the scripts is in the Live Object Model", () => {
  const known = allNames();
  assert.deepEqual(lomNames('api.get("lenght"); bgApi(p + " clipslots " + i)', true), ["lenght", "clipslots"]);
  const used = lomNames(source("beatguide.js"), false).concat(lomNames(source("bg_live.js"), true));
  assert.ok(used.length > 30, used.join(" "));
  for (const n of used) assert.ok(known.has(n), `'${n}' is not in the Live Object Model`);
});
