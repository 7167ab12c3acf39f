// Beat Guide server launcher: a Node for Max script ([node.script bg_launcher.js]) that gives the
// device a server without the producer opening a terminal.
//
// On start (and whenever the server port or the server command changes) it
//   1. pings the port (/bg/ping) and uses a Beat Guide server that answers: several devices in one
//      Set share one server, and a server started by hand is used as it is;
//   2. otherwise starts `beatguide serve` itself: the command is a device setting saved with the Set
//      ("command ..."), or, when empty, `beatguide` found on PATH or in the usual pip / pipx / venv /
//      conda / pyenv / python.org / Microsoft Store places of macOS and Windows (Live started from
//      the Finder does not see the shell's PATH);
//   3. if the port is held by a program that is not Beat Guide, starts the server on a free port
//      (`--port 0`; the server announces the port it bound) and tells the device that port.
// It reports each stage on the device's status line (again every few seconds until a server
// answers, so the device does not call it missing meanwhile), pings its server every few seconds and
// restarts it with back-off when it dies or stops answering.
//
// The server it starts is shared: it runs detached, with --stop-when-idle, so removing the device
// that started it leaves it to the others; it stops by itself once no device has pinged it for
// IDLE_STOP_S seconds (every device pings every 2 s), e.g. a minute after Live quits.
//
// Messages from the device: "port N" (the server port setting), "command <text>" (the server
// command setting, a command line; empty = search), "reply_port" (asks for a free UDP port for the
// device's replies), "stop". To the device: "status <text>", "port N" (the port of the server in
// use), "reply_port N", "busy" (still looking: no news), "ready" (asks the device for its settings
// once this script runs).
//
// The logic takes its Max side as an argument, so the tests (tests/launcher.test.js) run it under
// plain Node against a real `beatguide serve`; inside Max the `max-api` module is used.
"use strict";
const dgram = require("dgram");
const fs = require("fs");
const os = require("os");
const path = require("path");
const childProcess = require("child_process");

const HOST = "127.0.0.1";
const DEFAULT_PORT = 9010;
const ANNOUNCE = /^beatguide: serving on (\S+) port (\d+)\b/m;  // osc_server.ANNOUNCE
const PYTHONS = ["3.11", "3.12", "3.13", "3.14"];
const IDLE_STOP_S = 60;           // the server stops once no datagram came for this long
const OUTPUT_KEEP = 4096;         // characters of the server's output kept while waiting for its announce
const INSTALL_HINT = "install it (in the Beat Guide folder: python3 -m pip install .; see the README) or type " +
  "the full path of beatguide in Server command";

const DEFAULTS = {
  pingTimeoutMs: 500,             // one ping
  checkEveryMs: 3000,             // health check of the server in use
  missedChecks: 2,                // unanswered checks in a row before the server counts as gone
  startTimeoutMs: 60000,          // spawn to announce
  backoffMs: [1000, 2000, 5000, 10000, 30000],
  stableMs: 60000,                // up this long: the back-off starts again from its first step
  settingsWaitMs: 1000,           // after "ready", how long to wait for the device's settings
  busyPortWaitMs: 6000,           // a bound port that does not answer yet may be a server warming up
  progressMs: 2000,               // until a server answers, the status is said again this often
  idleStopS: IDLE_STOP_S,
};

// ------------------------------------------------------------------ OSC: just what ping / pong need
// (the device bundles no npm packages, so no OSC library; the server's side is python-osc)

function oscString(s) {
  const b = Buffer.from(s + "\0", "utf8");
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

function encodePing(requestId, replyPort) {
  const ints = Buffer.alloc(8);
  ints.writeInt32BE(requestId, 0);
  ints.writeInt32BE(replyPort, 4);
  return Buffer.concat([oscString("/bg/ping"), oscString(",ii"), ints]);
}

// {address, args} of one OSC message (int32, float32 and string arguments), or null.
function decodeMessage(buf) {
  let pos = 0;
  const str = () => {
    const end = buf.indexOf(0, pos);
    if (end < 0) throw new Error("unterminated string");
    const s = buf.toString("utf8", pos, end);
    pos = (end + 4) & ~3;
    return s;
  };
  try {
    const address = str();
    const tags = str();
    const args = [];
    for (const t of tags.slice(1)) {
      if (t === "i") { args.push(buf.readInt32BE(pos)); pos += 4; }
      else if (t === "f") { args.push(buf.readFloatBE(pos)); pos += 4; }
      else if (t === "s") args.push(str());
      else return null;
    }
    return { address, args };
  } catch (e) {
    return null;
  }
}

// Pings a port once: {version, models: [names]} when a Beat Guide server answers, else null.
function ping(port, timeoutMs, host = HOST) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const id = 1 + Math.floor(Math.random() * 1e9);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on("error", () => finish(null));
    sock.on("message", (buf) => {
      const m = decodeMessage(buf);
      if (m && m.address === "/bg/pong" && m.args[0] === id) {
        finish({ version: m.args[1], models: m.args.slice(3).filter((a) => typeof a === "string") });
      }
    });
    sock.bind(0, host, () => sock.send(encodePing(id, sock.address().port), port, host));
  });
}

// Whether a UDP port on loopback is free (nothing bound to it).
function portFree(port, host = HOST) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    sock.once("error", () => { sock.close(); resolve(false); });
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

// A UDP port on loopback that is free now: bound by the system, then released for the device's
// [udpreceive] to bind.
function freeUdpPort(host = HOST) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    sock.once("error", (e) => { sock.close(); reject(e); });
    sock.bind(0, host, () => {
      const port = sock.address().port;
      sock.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ finding `beatguide`

// A command line -> argv: words split on spaces, "double" or 'single' quotes keep spaces in a word.
function parseCommand(text) {
  const argv = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(String(text || ""))) !== null) argv.push(m[1] !== undefined ? m[1] : m[2] !== undefined ? m[2] : m[3]);
  return argv;
}

// The folders inside `dir` (names only; none when it cannot be read).
function listDir(dir) {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (e) {
    return [];
  }
}

const CONDAS = ["miniconda3", "anaconda3", "miniforge3", "mambaforge"];

// Where `beatguide` usually lands, besides PATH: pipx, pip --user, python.org (per user and for all
// users), Homebrew, Microsoft Store Pythons, conda (base and envs), pyenv versions, and virtual
// environments in the home folder. `list(dir)` lists the folders in a folder (envs, versions).
function usualPlaces(platform, env, home, list = listDir) {
  if (platform === "win32") {
    const j = path.win32.join;
    const profile = env.USERPROFILE || home;
    const appData = env.APPDATA || j(profile, "AppData", "Roaming");
    const local = env.LOCALAPPDATA || j(profile, "AppData", "Local");
    const programs = [env.ProgramFiles || "C:\\Program Files", env["ProgramFiles(x86)"] || "C:\\Program Files (x86)"];
    const exe = "beatguide.exe";
    const places = [j(profile, ".local", "bin", exe),                                       // pipx
      j(profile, "pipx", "venvs", "beatguide", "Scripts", exe),
      j(local, "pipx", "pipx", "venvs", "beatguide", "Scripts", exe)];
    for (const v of PYTHONS) {
      const tag = "Python" + v.replace(".", "");
      places.push(j(appData, "Python", tag, "Scripts", exe),                                // pip --user
        j(local, "Programs", "Python", tag, "Scripts", exe),                                // python.org, per user
        ...programs.map((p) => j(p, tag, "Scripts", exe)));                                 // python.org, all users
    }
    const packages = j(local, "Packages");                                                  // Microsoft Store
    for (const app of list(packages).filter((n) => n.startsWith("PythonSoftwareFoundation.Python."))) {
      const tag = "Python" + app.split(".").slice(2, 4).join("").replace(/_.*/, "");
      places.push(j(packages, app, "LocalCache", "local-packages", tag, "Scripts", exe));
    }
    for (const conda of CONDAS) {
      for (const root of [j(profile, conda), j(local, conda), "C:\\ProgramData\\" + conda]) {
        places.push(j(root, "Scripts", exe));
        for (const e of list(j(root, "envs"))) places.push(j(root, "envs", e, "Scripts", exe));
      }
    }
    const pyenv = j(profile, ".pyenv", "pyenv-win", "versions");
    for (const v of list(pyenv)) places.push(j(pyenv, v, "Scripts", exe));
    for (const venv of [".venv", "venv", j("beatguide", ".venv")]) places.push(j(profile, venv, "Scripts", exe));
    return places;
  }
  const places = [path.join(home, ".local", "bin", "beatguide"),                          // pipx, pip --user (Linux)
    path.join(home, ".local", "pipx", "venvs", "beatguide", "bin", "beatguide"),
    "/opt/homebrew/bin/beatguide", "/usr/local/bin/beatguide"];
  for (const v of PYTHONS) {
    places.push(path.join(home, "Library", "Python", v, "bin", "beatguide"),               // pip --user (macOS)
      path.join("/Library/Frameworks/Python.framework/Versions", v, "bin", "beatguide"));   // python.org
  }
  for (const conda of CONDAS) {
    for (const root of [path.join(home, conda), path.join("/opt", conda), path.join("/opt/homebrew/Caskroom", conda, "base")]) {
      places.push(path.join(root, "bin", "beatguide"));
      for (const e of list(path.join(root, "envs"))) places.push(path.join(root, "envs", e, "bin", "beatguide"));
    }
  }
  const pyenv = path.join(env.PYENV_ROOT || path.join(home, ".pyenv"), "versions");
  for (const v of list(pyenv)) places.push(path.join(pyenv, v, "bin", "beatguide"));
  for (const venv of [".venv", "venv", path.join("beatguide", ".venv"), path.join(".virtualenvs", "beatguide")]) {
    places.push(path.join(home, venv, "bin", "beatguide"));
  }
  return places;
}

// The command to run: {argv, searched}. The setting when given, else `beatguide` on PATH or in
// the usual places; argv is null when nothing was found (searched lists where it looked).
function findCommand(setting, { platform = process.platform, env = process.env, home = os.homedir(),
  exists = isFile, list = listDir } = {}) {
  const given = parseCommand(setting);
  if (given.length) return { argv: given, searched: [] };
  const sep = platform === "win32" ? ";" : ":";
  const join = platform === "win32" ? path.win32.join : path.join;
  const name = platform === "win32" ? "beatguide.exe" : "beatguide";
  const onPath = String(env.PATH || env.Path || "").split(sep).filter(Boolean).map((d) => join(d, name));
  const searched = onPath.concat(usualPlaces(platform, env, home, list));
  const found = searched.find((p) => exists(p));
  return { argv: found ? [found] : null, searched };
}

// How to spawn argv on `platform`: {file, args, options}. Windows runs a .cmd or .bat (a conda or
// pyenv-win shim) only through a shell, which takes one command line: each word is quoted there,
// so a path with spaces stays one word.
function spawnPlan(argv, args, platform = process.platform) {
  const options = { stdio: ["ignore", "pipe", "pipe"], windowsHide: true, detached: true };
  if (platform === "win32" && /\.(cmd|bat)$/i.test(argv[0])) {
    const line = argv.concat(args).map((a) => '"' + String(a).replace(/"/g, '""') + '"').join(" ");
    return { file: line, args: [], options: Object.assign(options, { shell: true }) };
  }
  return { file: argv[0], args: argv.slice(1).concat(args), options };
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch (e) {
    return false;
  }
}

// ------------------------------------------------------------------ the launcher

class Launcher {
  // out(kind, ...args): a message to the device ("status", "busy", "port", "reply_port", "ready").
  // options: DEFAULTS to override, and `find` (the command lookup) and `spawn` for tests.
  constructor(out, options = {}) {
    this.out = out;
    this.opts = Object.assign({}, DEFAULTS, options);
    this.find = options.find || findCommand;
    this.spawn = options.spawn || childProcess.spawn;
    this.port = DEFAULT_PORT;   // the port setting
    this.command = "";          // the command setting ("" = search)
    this.activePort = null;     // the port of the server in use
    this.child = null;          // the server this launcher started
    this.childArgv = null;
    this.failures = 0;          // back-off step
    this.timer = null;          // the next scheduled action (retry or health check)
    this.generation = 0;        // bumps on every restart of the sequence; stale async steps stop
    this.stopped = false;
    this.started = false;
    this.lastStatus = "";
    this.startingAt = 0;        // when the server being started was spawned (0: none is starting)
    this.progress = null;       // the timer that repeats the status until a server answers
  }

  status(text) {
    this.lastStatus = text;
    this.out("status", text);
  }

  // Until a server answers, tells the device it is still at work: the status again with the time
  // spent while starting a server, else "busy" (which leaves the status line alone). The device
  // takes a launcher that stays quiet for a missing one.
  repeatStatus() {
    if (this.stopped || this.activePort !== null || !this.lastStatus) return;
    if (this.startingAt) this.out("status", this.lastStatus + " (" + Math.round((Date.now() - this.startingAt) / 1000) + " s)");
    else this.out("busy");
  }

  // Asks the device for its settings, then starts (with the defaults if none come).
  hello() {
    this.out("ready");
    this.schedule(() => this.start(), this.opts.settingsWaitMs);
  }

  start() {
    if (this.started || this.stopped) return;
    this.started = true;
    this.progress = setInterval(() => this.repeatStatus(), this.opts.progressMs);
    this.progress.unref();
    this.ensure();
  }

  setPort(n) {
    n = Math.round(Number(n));
    if (!(n >= 1 && n <= 65535)) return;
    if (n === this.activePort || (n === this.port && this.started)) return;  // the port in use told back to us
    this.port = n;
    if (!this.started) return this.start();
    this.restart(false);  // a server started on the old port serves on for whoever uses it
  }

  // The command setting: a command line ("" = search); quote a path that holds spaces.
  setCommand(command) {
    const text = String(command || "").trim();
    if (text === this.command) return;
    this.command = text;
    if (this.started && (this.child || this.activePort === null)) this.restart(true);
  }

  // Drops the server in use (stopping the one this launcher started when `kill`) and looks again.
  restart(kill) {
    this.failures = 0;
    this.release(kill).then(() => this.ensure());
  }

  async ensure() {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.clearTimer();
    this.status("looking for the server on port " + this.port + " ...");
    const found = await ping(this.port, this.opts.pingTimeoutMs);
    if (gen !== this.generation) return;
    if (found) return this.use(this.port, found, "already running on port " + this.port);

    const cmd = this.find(this.command);
    if (!cmd.argv) {
      const wait = this.backoff();
      return this.retry("not found: " + INSTALL_HINT + " (looked in " + cmd.searched.length +
        " places; looking again in " + wait / 1000 + " s)", wait);
    }
    let free = await portFree(this.port);
    if (!free) {  // a server binds its port before it warms up and answers: give it that time
      this.status("port " + this.port + " is in use: waiting for it to answer ...");
      const deadline = Date.now() + this.opts.busyPortWaitMs;
      while (Date.now() < deadline) {
        const late = await ping(this.port, this.opts.pingTimeoutMs);
        if (gen !== this.generation) return;
        if (late) return this.use(this.port, late, "already running on port " + this.port);
        free = await portFree(this.port);
        if (free) break;
      }
    }
    if (gen !== this.generation) return;
    this.status(free ? "starting " + shown(cmd.argv) + " serve on port " + this.port + " ..."
      : "port " + this.port + " is used by another program: starting the server on a free port ...");
    this.launch(cmd.argv, free ? this.port : 0, gen);
  }

  launch(argv, port, gen) {
    const plan = spawnPlan(argv, ["serve", "--port", String(port), "--stop-when-idle", String(this.opts.idleStopS)]);
    let child;
    try {
      child = this.spawn(plan.file, plan.args, plan.options);
    } catch (e) {
      return this.retry("cannot start " + shown(argv) + ": " + e.message, this.backoff());
    }
    this.child = child;
    this.childArgv = argv;
    const startedAt = Date.now();
    this.startingAt = startedAt;
    let out = "";
    let lastErr = "";
    let announced = false;
    const giveUp = setTimeout(() => {
      if (!announced) {
        lastErr = "no answer within " + this.opts.startTimeoutMs / 1000 + " s";
        child.kill();
      }
    }, this.opts.startTimeoutMs);
    child.stdout.on("data", (d) => {
      if (announced) return;
      out = (out + d).slice(-OUTPUT_KEEP);
      const m = ANNOUNCE.exec(out);
      if (m) {
        announced = true;
        out = "";
        clearTimeout(giveUp);
        const bound = Number(m[2]);
        ping(bound, this.opts.pingTimeoutMs * 4).then((found) => {
          if (gen !== this.generation || this.child !== child) return;
          if (found) this.use(bound, found, port === 0 ? "port " + this.port + " is used by another program" : "started");
          else child.kill();  // announced but does not answer: start again
        });
      }
    });
    child.stderr.on("data", (d) => {
      const lines = String(d).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
      if (lines.length) lastErr = lines[lines.length - 1].replace(/^\S+ \S+ (INFO|WARNING|ERROR) /, "");
    });
    child.on("error", (e) => { lastErr = e.code === "ENOENT" ? shown(argv) + " does not exist" : e.message; });
    child.on("close", (code, signal) => {
      clearTimeout(giveUp);
      if (this.child !== child) return;  // stopped or let go on purpose
      this.child = null;
      this.startingAt = 0;
      this.activePort = null;
      if (this.stopped || gen !== this.generation) return;
      if (Date.now() - startedAt >= this.opts.stableMs) this.failures = 0;
      const why = code === null ? "killed (" + signal + ")" : "exit " + code;
      const wait = this.backoff();
      this.retry("server stopped (" + why + (lastErr ? ": " + lastErr : "") + "); restarting in " +
        wait / 1000 + " s", wait);
    });
  }

  // A server answers on `port`: tell the device, then check on it every few seconds.
  use(port, found, how) {
    this.activePort = port;
    this.startingAt = 0;
    this.out("port", port);
    const n = found.models.length;
    this.status("ready: " + n + " model" + (n === 1 ? "" : "s") + " (" + how + (port !== this.port ? ", using port " + port : "") + ")");
    this.watch(port, this.generation, 0);
  }

  watch(port, gen, missed) {
    this.schedule(async () => {
      const found = await ping(port, this.opts.pingTimeoutMs);
      if (gen !== this.generation || this.stopped) return;
      if (found) {
        if (missed) this.status("ready: " + found.models.length + " models (answering again on port " + port + ")");
        return this.watch(port, gen, 0);
      }
      if (missed + 1 < this.opts.missedChecks) return this.watch(port, gen, missed + 1);
      this.activePort = null;
      if (this.child) {  // ours, alive but silent: stop it, its close handler restarts it
        this.status("the server on port " + port + " stopped answering: restarting it");
        this.child.kill();
      } else {
        this.status("the server on port " + port + " stopped answering: looking again");
        this.ensure();
      }
    }, this.opts.checkEveryMs);
  }

  retry(text, wait) {
    this.status(text);
    this.schedule(() => this.ensure(), wait);
  }

  backoff() {
    const steps = this.opts.backoffMs;
    return steps[Math.min(this.failures++, steps.length - 1)];
  }

  schedule(fn, ms) {
    this.clearTimer();
    this.timer = setTimeout(() => { this.timer = null; fn(); }, ms);
  }

  clearTimer() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  // Forgets the server in use. The one this launcher started is stopped when `kill` or when it
  // never answered; else it is let go: it serves on for the devices that use it, and stops by
  // itself once none pings it.
  release(kill) {
    const serving = this.child !== null && this.startingAt === 0;
    this.generation++;
    this.clearTimer();
    this.activePort = null;
    this.startingAt = 0;
    const child = this.child;
    this.child = null;
    if (!child) return Promise.resolve();
    if (!kill && serving) {
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("close", () => { clearTimeout(force); resolve(); });
      child.kill();
    });
  }

  // The device is going away: stop for good (the server it started serves on for the others).
  stop() {
    this.stopped = true;
    if (this.progress !== null) clearInterval(this.progress);
    this.progress = null;
    return this.release(false);
  }

  // Asks for a free UDP port for the device's replies: "reply_port N".
  replyPort() {
    return freeUdpPort().then((port) => this.out("reply_port", port), (e) => this.status("no free reply port: " + e.message));
  }
}

function shown(argv) {
  return argv.map((a) => (/\s/.test(a) ? '"' + a + '"' : a)).join(" ");
}

// ------------------------------------------------------------------ inside Max

function attach(maxApi, options = {}) {
  const launcher = new Launcher((kind, ...args) => maxApi.outlet(kind, ...args), options);
  maxApi.addHandler("port", (n) => launcher.setPort(n));
  maxApi.addHandler("command", (...words) => launcher.setCommand(words.join(" ")));
  maxApi.addHandler("reply_port", () => launcher.replyPort());
  maxApi.addHandler("stop", () => launcher.stop());
  const quit = () => launcher.stop().then(() => process.exit(0));
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
  launcher.hello();
  return launcher;
}

let maxApi = null;
try {
  maxApi = require("max-api");  // only inside Max (Node for Max)
} catch (e) {
  maxApi = null;
}
if (maxApi) attach(maxApi);

module.exports = { Launcher, findCommand, usualPlaces, parseCommand, spawnPlan, ping, portFree, freeUdpPort,
  encodePing, decodeMessage, attach, DEFAULTS, ANNOUNCE };
