// Test helpers: the built device, a Max `js` sandbox (with the patch's named boxes), and a tiny OSC codec.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");
const { execFileSync, spawn } = require("node:child_process");
const { FakeLive } = require("./fake_live.js");

const DEVICE_DIR = path.resolve(__dirname, "..");
const ROOT = path.resolve(DEVICE_DIR, "..");
const PYTHON = process.env.PYTHON || "python3";

// The folder the device was built into: BG_DEVICE_DIR (set by tests/test_m4l_device.py), else a
// fresh build. The tests load the scripts from there: what ships is what is tested.
let built = null;
function buildDir() {
  if (built) return built;
  if (process.env.BG_DEVICE_DIR) {
    built = process.env.BG_DEVICE_DIR;
  } else {
    built = fs.mkdtempSync(path.join(os.tmpdir(), "bg-device-"));
    execFileSync(PYTHON, [path.join(DEVICE_DIR, "build.py"), "--out", built, "--unfrozen"]);
  }
  return built;
}

// The unfrozen device's folder: the same scripts, loose (the frozen device embeds these bytes).
function scriptsDir() { return path.join(buildDir(), "unfrozen"); }

// The files a frozen device embeds, in order (the device's own patcher first): name, footer field
// tags, flag, bytes. The layout is described in m4l_device/frozen.py.
function frozenFiles(bytes) {
  let pos = 0;
  let ptch = null;
  while (pos < bytes.length) {
    const size = bytes.readUInt32LE(pos + 4);
    if (bytes.toString("ascii", pos, pos + 4) === "ptch") ptch = bytes.subarray(pos + 8, pos + 8 + size);
    pos += 8 + size;
  }
  if (!ptch || ptch.toString("ascii", 0, 4) !== "mx@c") throw new Error("not a frozen device");
  const footer = ptch.subarray(Number(ptch.readBigUInt64BE(8)));
  if (footer.toString("ascii", 0, 4) !== "dlst" || footer.readUInt32BE(4) !== footer.length) throw new Error("bad dlst footer");
  const files = [];
  for (let e = 8; e < footer.length; e += footer.readUInt32BE(e + 4)) {
    if (footer.toString("ascii", e, e + 4) !== "dire") throw new Error(`no dire entry at ${e}`);
    const fields = {};
    const order = [];
    for (let f = e + 8; f < e + footer.readUInt32BE(e + 4); f += footer.readUInt32BE(f + 4)) {
      const tag = footer.toString("ascii", f, f + 4);
      order.push(tag);
      fields[tag] = footer.subarray(f + 8, f + footer.readUInt32BE(f + 4));
    }
    const offset = fields.of32.readUInt32BE(0);
    files.push({
      name: fields.fnam.toString("ascii").replace(/\0+$/, ""),
      fields: order,
      raw: fields,
      flag: fields.flag.readUInt32BE(0),
      data: ptch.subarray(offset, offset + fields.sz32.readUInt32BE(0)),
    });
  }
  return files;
}

// The built (frozen) device: its bytes, its embedded files and its patcher.
function readPatch() {
  const bytes = fs.readFileSync(path.join(buildDir(), "Beat Guide.amxd"));
  const files = frozenFiles(bytes);
  const json = files[0].data.subarray(0, files[0].data.length - 1).toString("utf8");   // null-terminated
  return { bytes, files, patch: JSON.parse(json).patcher };
}

// require() of a built script (bg_core.js, bg_kit.js, bg_spec.js).
function load(name) { return require(path.join(scriptsDir(), name)); }

// ------------------------------------------------------------------ the patch's named boxes

// A box the js reaches through this.patcher.getnamed(): it keeps the messages it receives, and
// for menus the items and the shown item.
class FakeBox {
  constructor(box) {
    this.box = box;
    this.messages = [];
    this.items = [];
    this.shown = null;
    this.active = 1;
  }

  message(selector, ...args) {
    this.messages.push([selector, ...args]);
    if (selector === "clear") this.items = [];
    else if (selector === "append") this.items.push(args.join(" "));
    else if (selector === "set") this.shown = args[0];
    else if (selector === "active") this.active = args[0];
    else throw new Error(`${this.box.maxclass} ${this.box.varname} does not take '${selector}' here`);
  }

  get text() { return this.items[this.shown]; }
}

class FakePatcher {
  constructor(patch) {
    this.named = new Map();
    for (const { box } of patch.boxes) if (box.varname) this.named.set(box.varname, new FakeBox(box));
  }

  getnamed(name) { return this.named.get(name) || null; }
}

// ------------------------------------------------------------------ Max js sandbox

// Loads beatguide.js as Max's js object would; returns the sandbox and what went out of each outlet.
// onOutlet(n, message) sees each message as it leaves (e.g. to forward OSC to a real server).
// pattr echoes what it is sent back into the js, as Max's pattr does.
function loadDevice(live, onOutlet = () => {}) {
  const dir = scriptsDir();
  const out = [];
  const tasks = [];
  const posts = [];   // what the scripts print to the Max Console
  const patcher = new FakePatcher(readPatch().patch);
  const ctx = {
    post: (...args) => { posts.push(args.join(" ")); },
    outlet: (n, ...args) => {
      const message = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
      out.push([n, ...message]);
      onOutlet(n, message);
      if (n === 4) ctx.restore(...message);   // pattr's echo
    },
    arrayfromargs: (a) => Array.prototype.slice.call(a),
    LiveAPI: live.liveAPIClass(),
    Task: function Task(fn, owner) {
      this.fn = fn.bind(owner);
      this.interval = 0;
      this.running = false;
      this.due = false;
      this.repeat = () => { this.running = true; if (!tasks.includes(this)) tasks.push(this); };
      this.schedule = () => { this.due = true; if (!tasks.includes(this)) tasks.push(this); };
      this.cancel = () => { this.running = false; this.due = false; };
    },
    patcher,
    JSON, Math, Date, String, Number, parseInt, isFinite, Error,
  };
  ctx.include = (name) => vm.runInContext(fs.readFileSync(path.join(dir, name), "utf8"), ctx, { filename: name });
  vm.createContext(ctx);
  vm.runInContext(fs.readFileSync(path.join(dir, "beatguide.js"), "utf8"), ctx, { filename: "beatguide.js" });
  return {
    ctx,
    out,
    tasks,
    posts,
    live,
    // Sends a Max message (selector + args) into the js inlet.
    send(selector, ...args) {
      if (typeof ctx[selector] === "function") return ctx[selector](...args);
      ctx.messagename = selector;
      return ctx.anything(...args);
    },
    sent(n) { return out.filter((m) => m[0] === n).map((m) => m.slice(1)); },
    status() {
      const s = this.sent(3);
      return s.length ? s[s.length - 1].slice(1).join(" ") : "";
    },
    ui(name) {
      const b = patcher.getnamed(name);
      if (!b) throw new Error(`no box named ${name}`);
      return b;
    },
    // Runs what a Task would run next: repeating tasks once, scheduled ones once.
    tick() {
      for (const t of tasks.slice()) {
        if (t.due) { t.due = false; t.fn(); } else if (t.running) t.fn();
      }
    },
    // Runs the scheduled (one-shot) tasks only, e.g. the kit rescan after a change in the Set.
    settle() {
      for (const t of tasks.slice()) if (t.due) { t.due = false; t.fn(); }
    },
    task(name) { return tasks.find((t) => t.fn.name === `bound ${name}`); },
  };
}

// ------------------------------------------------------------------ OSC (int32, float32, string)

function pad4(n) { return (n + 3) & ~3; }

function oscString(s) {
  const b = Buffer.alloc(pad4(Buffer.byteLength(s) + 1));
  b.write(s);
  return b;
}

// As Max's udpsend encodes a message: whole numbers as int32, other numbers as float32.
function encodeOSC(address, args) {
  let tags = ",";
  const parts = [];
  for (const a of args) {
    if (typeof a === "string") { tags += "s"; parts.push(oscString(a)); continue; }
    const b = Buffer.alloc(4);
    if (Number.isInteger(a)) { tags += "i"; b.writeInt32BE(a); } else { tags += "f"; b.writeFloatBE(a); }
    parts.push(b);
  }
  return Buffer.concat([oscString(address), oscString(tags), ...parts]);
}

function decodeOSC(buf) {
  let pos = 0;
  function str() {
    const end = buf.indexOf(0, pos);
    const s = buf.toString("utf8", pos, end);
    pos = pad4(end + 1);
    return s;
  }
  const address = str();
  const tags = str().slice(1);
  const args = [];
  for (const t of tags) {
    if (t === "i") { args.push(buf.readInt32BE(pos)); pos += 4; }
    else if (t === "f") { args.push(buf.readFloatBE(pos)); pos += 4; }
    else if (t === "s") args.push(str());
    else throw new Error(`OSC type ${t} not handled`);
  }
  return { address, args };
}

// ------------------------------------------------------------------ a real server

const MODELS = process.env.BG_MODELS_DIR || path.join(ROOT, "models");
const SERVER_START_S = 60;

// `beatguide serve --port 0` on the repository's models: resolves with {server, port, log()} once it
// announces its port; rejects when it exits first. Stopped when test `t` ends.
function startServer(t) {
  const server = spawn(PYTHON, ["-m", "beatguide.cli", "serve", "--port", "0", "--models", MODELS],
    { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => server.kill());
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no announce within ${SERVER_START_S} s:\n${log}`)), SERVER_START_S * 1000);
    server.stdout.on("data", (d) => {
      log += d;
      const m = /serving on \S+ port (\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve({ server, port: +m[1], log: () => log }); }
    });
    server.stderr.on("data", (d) => { log += d; });
    server.on("exit", (code) => { clearTimeout(timer); reject(new Error(`beatguide serve exited (${code}):\n${log}`)); });
  });
}

module.exports = { DEVICE_DIR, ROOT, PYTHON, FakeLive, buildDir, scriptsDir, frozenFiles, readPatch, load, loadDevice, encodeOSC,
  decodeOSC, startServer };
