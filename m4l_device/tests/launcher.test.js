// bg_launcher.js (the Node for Max launcher) under plain Node, its Max side replaced by a recorder,
// against a real `beatguide serve`: first start, a second device reusing the server, the server
// killed and restarted, the starting device removed while another uses the server, a foreign
// program on the port, the launcher dying, a server that never answers, and the command search.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("node:dgram");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawn, spawnSync } = require("node:child_process");
const L = require("../bg_launcher.js");

// How to run the server: $BG_BEATGUIDE (a `beatguide` executable), else $PYTHON -m beatguide.cli
// (tests/test_m4l_device.py passes the Python running pytest).
const PYTHON = process.env.PYTHON || "python3";
const COMMAND = process.env.BG_BEATGUIDE ? JSON.stringify(process.env.BG_BEATGUIDE) : `"${PYTHON}" -m beatguide.cli`;
const IDLE_S = 2;
const FAST = { checkEveryMs: 300, pingTimeoutMs: 300, backoffMs: [300, 600], settingsWaitMs: 50, busyPortWaitMs: 3000,
  progressMs: 200, idleStopS: IDLE_S };

function serverSkip() {
  if (process.env.BG_BEATGUIDE) return false;
  const r = spawnSync(PYTHON, ["-c", "import beatguide.cli"], { encoding: "utf8" });
  return r.status === 0 ? false : `cannot import beatguide with ${PYTHON} (set PYTHON or BG_BEATGUIDE)`;
}
const SKIP = serverSkip();

function freePort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A device stand-in: records what the launcher says; `until` waits for a status matching a pattern.
function device(options = {}) {
  const said = [];
  const launcher = new L.Launcher((kind, ...args) => said.push([kind, ...args]), Object.assign({}, FAST, options));
  const statuses = () => said.filter((m) => m[0] === "status").map((m) => m[1]);
  const until = async (re, ms = 60000, from = 0) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = statuses().slice(from).find((s) => re.test(s));
      if (hit) return hit;
      assert.ok(Date.now() < deadline, `no status matching ${re} within ${ms} ms; said:\n${statuses().join("\n")}`);
      await sleep(50);
    }
  };
  const ports = () => said.filter((m) => m[0] === "port").map((m) => m[1]);
  return { launcher, said, statuses, until, ports };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return false;
  }
}

async function gone(pid, ms = 15000) {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    assert.ok(Date.now() < deadline, `process ${pid} still running after ${ms} ms`);
    await sleep(100);
  }
}

test("server lifecycle against a real beatguide serve", { skip: SKIP, timeout: 300000 }, async (t) => {
  const port = await freePort();
  const a = device();
  const b = device();
  t.after(() => Promise.all([a.launcher.stop(), b.launcher.stop()]));

  await t.test("first start: looks, starts the server, says ready with its models", async () => {
    a.launcher.setCommand(COMMAND);
    a.launcher.setPort(port);
    const ready = await a.until(/^ready/);
    assert.match(ready, /^ready: \d+ models? \(started\)$/);
    const s = a.statuses();
    assert.match(s[0], new RegExp(`^looking for the server on port ${port}`));
    assert.ok(s.some((x) => /^starting .*beatguide.* serve on port \d+/.test(x)), s.join("\n"));
    assert.deepEqual(a.ports(), [port]);
    const pong = await L.ping(port, 2000);
    assert.ok(pong && pong.models.length === Number(/ready: (\d+)/.exec(ready)[1]));
    assert.ok(a.launcher.child && alive(a.launcher.child.pid));
  });

  await t.test("a second device uses the server that answers, without starting one", async () => {
    b.launcher.setCommand(COMMAND);
    b.launcher.setPort(port);
    assert.match(await b.until(/^ready/), new RegExp(`already running on port ${port}`));
    assert.equal(b.launcher.child, null);
    assert.deepEqual(b.ports(), [port]);
  });

  // Which device restarts a killed server is a race (its owner's back-off against the other's
  // health check); either way one server ends up on the port and both devices use it.
  const owner = () => [a, b].find((d) => d.launcher.child);
  const settled = async (d, from) => {
    for (;;) {
      const s = await d.until(/^ready/, 60000, from);
      from = d.statuses().indexOf(s, from) + 1;
      await sleep(1500);
      if (d.statuses().length === from && d.launcher.activePort === port) return;
    }
  };

  await t.test("the server killed: a server is back on the port and both devices use it", async () => {
    const first = a.launcher.child.pid;
    const from = [a.statuses().length, b.statuses().length];
    process.kill(first, "SIGKILL");
    assert.match(await a.until(/^server stopped/, 20000, from[0]), /killed \(SIGKILL\).*restarting in/);
    await Promise.all([settled(a, from[0]), settled(b, from[1])]);
    assert.ok([a, b].filter((d) => d.launcher.child).length === 1);
    assert.notEqual(owner().launcher.child.pid, first);
    assert.ok(await L.ping(port, 2000));
  });

  await t.test("the device that started it is removed: the server serves on for the other, then stops when idle", async () => {
    const removed = owner();
    const other = removed === a ? b : a;
    const pid = removed.launcher.child.pid;
    const from = other.statuses().length;
    await removed.launcher.stop();
    await sleep(IDLE_S * 1000 + 1500);   // longer than the idle stop: the other device's pings keep it
    assert.ok(alive(pid));
    assert.equal(other.statuses().length, from, other.statuses().slice(from).join("\n"));
    assert.equal(other.launcher.activePort, port);
    await other.launcher.stop();
    await gone(pid);   // nobody pings it now
    assert.equal(await L.ping(port, 500), null);
  });
});

test("a program that is not Beat Guide holds the port: a free port, told to the device", { skip: SKIP, timeout: 120000 },
  async (t) => {
    const foreign = dgram.createSocket("udp4");
    await new Promise((r) => foreign.bind(0, "127.0.0.1", r));
    const taken = foreign.address().port;
    const d = device();
    t.after(async () => { await d.launcher.stop(); foreign.close(); });
    d.launcher.setCommand(COMMAND);
    d.launcher.setPort(taken);
    await d.until(new RegExp(`^port ${taken} is in use: waiting for it to answer`), 10000);
    await d.until(new RegExp(`^port ${taken} is used by another program`), 10000);
    const ready = await d.until(/^ready/);
    const used = d.ports().pop();
    assert.notEqual(used, taken);
    assert.match(ready, new RegExp(`port ${taken} is used by another program, using port ${used}\\)$`));
    assert.ok(await L.ping(used, 2000));
    d.launcher.setPort(used);  // the device saves and sends back the port in use: nothing changes
    await sleep(200);
    assert.equal(d.ports().length, 1);
  });

test("the launcher's process dies: the server it started serves on, and stops once nobody pings it",
  { skip: SKIP, timeout: 120000 }, async () => {
    // idle stop well beyond the time from the launcher's last ping to ours, on a loaded machine too
    const idleS = 8;
    const port = await freePort();
    const script = `
      const L = require(${JSON.stringify(path.resolve(__dirname, "..", "bg_launcher.js"))});
      const l = new L.Launcher((kind, ...args) => {
        if (kind === "status" && args[0].startsWith("ready")) console.log("pid " + l.child.pid);
      }, { idleStopS: ${idleS} });
      l.setCommand(process.env.CMD);
      l.setPort(Number(process.env.PORT));`;
    const host = spawn(process.execPath, ["-e", script], { env: Object.assign({}, process.env, { CMD: COMMAND, PORT: String(port) }),
      stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise((resolve, reject) => {
      let out = "";
      host.stdout.on("data", (d) => {
        out += d;
        const m = /pid (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      host.on("exit", (code) => reject(new Error(`launcher host exited with ${code}`)));
    });
    host.kill("SIGKILL");  // no handler runs
    await sleep(300);
    assert.ok(await L.ping(port, 2000), "the server outlives the launcher that started it");
    await gone(pid, 1000 * idleS + 20000);
    assert.equal(await L.ping(port, 500), null);
  });

test("not found: says how to install, looks again with back-off, and uses a server started by hand meanwhile",
  { skip: SKIP, timeout: 120000 }, async (t) => {
    const port = await freePort();
    const d = device({ find: () => ({ argv: null, searched: ["/nowhere/beatguide", "/nor/here/beatguide"] }) });
    t.after(() => d.launcher.stop());
    d.launcher.setPort(port);
    const said = await d.until(/^not found/, 5000);
    assert.match(said, /python3 -m pip install \./);
    assert.match(said, /Server command/);
    assert.match(said, /looked in 2 places; looking again in 0.3 s/);
    assert.match(await d.until(/looking again in 0.6 s/, 5000), /not found/);
    assert.ok(d.said.some((m) => m[0] === "busy"), "still looking: the device is told, its status line left alone");
    const byHand = spawn(PYTHON, ["-m", "beatguide.cli", "serve", "--port", String(port)], { stdio: "ignore" });
    t.after(() => byHand.kill());
    assert.match(await d.until(/^ready/, 60000), new RegExp(`already running on port ${port}`));
  });

test("a server that never answers: the status says how long it has been starting, then gives up and retries",
  { timeout: 30000 }, async (t) => {
    const d = device({ startTimeoutMs: 1500 });
    t.after(() => d.launcher.stop());
    // a silent program, at a path with spaces (one word: quoted in the setting and in the status)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bg launcher "));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const program = path.join(dir, "silent server");
    fs.symlinkSync(process.execPath, program);
    d.launcher.setCommand(`"${program}" -e "setInterval(() => {}, 1000)"`);
    d.launcher.setPort(await freePort());
    const starting = await d.until(/^starting .* serve on port \d+ \.\.\. \(1 s\)$/, 10000);
    assert.ok(starting.startsWith(`starting "${program}" -e "setInterval(() => {}, 1000)" serve on port`), starting);
    assert.match(await d.until(/^server stopped/, 10000),
      /killed \(SIGTERM\): no answer within 1.5 s\); restarting in 0.3 s/);
  });

test("a command that cannot run: the status says so and it retries", { timeout: 20000 }, async (t) => {
  const d = device();
  t.after(() => d.launcher.stop());
  d.launcher.setCommand("/no/such/folder/beatguide");
  d.launcher.setPort(await freePort());
  assert.match(await d.until(/^server stopped/, 10000), /\/no\/such\/folder\/beatguide does not exist.*restarting in 0.3 s/);
});

test("command search: the setting first, then PATH, then pipx / pip / venv places", () => {
  const home = "/Users/me";
  const mac = (have) => L.findCommand("", { platform: "darwin", env: { PATH: "/usr/bin:/bin" }, home,
    exists: (p) => have.includes(p) });
  assert.deepEqual(mac(["/usr/bin/beatguide", "/Users/me/.local/bin/beatguide"]).argv, ["/usr/bin/beatguide"]);
  assert.deepEqual(mac(["/Users/me/.local/bin/beatguide"]).argv, ["/Users/me/.local/bin/beatguide"]);
  assert.deepEqual(mac(["/Users/me/Library/Python/3.12/bin/beatguide"]).argv, ["/Users/me/Library/Python/3.12/bin/beatguide"]);
  assert.deepEqual(mac(["/Library/Frameworks/Python.framework/Versions/3.11/bin/beatguide"]).argv,
    ["/Library/Frameworks/Python.framework/Versions/3.11/bin/beatguide"]);
  assert.deepEqual(mac(["/Users/me/.venv/bin/beatguide"]).argv, ["/Users/me/.venv/bin/beatguide"]);
  const none = mac([]);
  assert.equal(none.argv, null);
  assert.ok(none.searched.includes("/opt/homebrew/bin/beatguide") && none.searched[0] === "/usr/bin/beatguide");

  const env = { Path: "C:\\Windows\\system32", USERPROFILE: "C:\\Users\\me", APPDATA: "C:\\Users\\me\\AppData\\Roaming",
    LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" };
  const win = (have) => L.findCommand("", { platform: "win32", env, home: "C:\\Users\\me", exists: (p) => have.includes(p) });
  for (const p of ["C:\\Users\\me\\.local\\bin\\beatguide.exe",
    "C:\\Users\\me\\AppData\\Roaming\\Python\\Python312\\Scripts\\beatguide.exe",
    "C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python311\\Scripts\\beatguide.exe",
    "C:\\Users\\me\\.venv\\Scripts\\beatguide.exe"]) {
    assert.deepEqual(win([p]).argv, [p]);
  }
  assert.equal(win([]).searched[0], "C:\\Windows\\system32\\beatguide.exe");
  assert.deepEqual(win(["C:\\Program Files\\Python313\\Scripts\\beatguide.exe"]).argv,
    ["C:\\Program Files\\Python313\\Scripts\\beatguide.exe"]);

  // conda (base and envs), pyenv versions, Microsoft Store Pythons: found by listing their folders
  const folders = {
    "/Users/me/miniconda3/envs": ["beats", "other"],
    "/Users/me/.pyenv/versions": ["3.12.4"],
    "C:\\Users\\me\\AppData\\Local\\Packages": ["Microsoft.Edge_8wekyb3d8bbwe",
      "PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0"],
    "C:\\Users\\me\\anaconda3\\envs": ["drums"],
    "C:\\Users\\me\\.pyenv\\pyenv-win\\versions": ["3.11.9"],
  };
  const list = (dir) => folders[dir] || [];
  const macIn = (have) => L.findCommand("", { platform: "darwin", env: { PATH: "/usr/bin" }, home, list,
    exists: (p) => have.includes(p) }).argv;
  for (const p of ["/Users/me/miniconda3/bin/beatguide", "/Users/me/miniconda3/envs/beats/bin/beatguide",
    "/opt/homebrew/Caskroom/miniforge3/base/bin/beatguide", "/Users/me/.pyenv/versions/3.12.4/bin/beatguide"]) {
    assert.deepEqual(macIn([p]), [p]);
  }
  const winIn = (have) => L.findCommand("", { platform: "win32", env, home: "C:\\Users\\me", list,
    exists: (p) => have.includes(p) }).argv;
  for (const p of [
    "C:\\Users\\me\\AppData\\Local\\Packages\\PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0\\LocalCache\\local-packages\\Python312\\Scripts\\beatguide.exe",
    "C:\\Users\\me\\anaconda3\\Scripts\\beatguide.exe", "C:\\Users\\me\\anaconda3\\envs\\drums\\Scripts\\beatguide.exe",
    "C:\\Users\\me\\.pyenv\\pyenv-win\\versions\\3.11.9\\Scripts\\beatguide.exe"]) {
    assert.deepEqual(winIn([p]), [p]);
  }

  assert.deepEqual(L.findCommand('"/Applications/My Python/bin/beatguide"').argv, ["/Applications/My Python/bin/beatguide"]);
  assert.deepEqual(L.parseCommand("py -3.12 -m 'beatguide.cli'"), ["py", "-3.12", "-m", "beatguide.cli"]);
});

test("spawning: argv as is (spaces kept); on Windows a .cmd or .bat through a shell, every word quoted", () => {
  const plain = L.spawnPlan(["/Users/me/My Python/bin/beatguide", "--log-level", "INFO"], ["serve", "--port", "9010"], "darwin");
  assert.equal(plain.file, "/Users/me/My Python/bin/beatguide");
  assert.deepEqual(plain.args, ["--log-level", "INFO", "serve", "--port", "9010"]);
  assert.equal(plain.options.shell, undefined);
  assert.equal(plain.options.detached, true);   // the server outlives this launcher
  assert.equal(plain.options.stdio[0], "ignore");
  const cmd = L.spawnPlan(["C:\\Users\\me\\My Envs\\beatguide.CMD"], ["serve", "--port", "9010"], "win32");
  assert.equal(cmd.options.shell, true);
  assert.equal(cmd.file, '"C:\\Users\\me\\My Envs\\beatguide.CMD" "serve" "--port" "9010"');
  assert.deepEqual(cmd.args, []);
  assert.equal(L.spawnPlan(["C:\\x\\beatguide.exe"], ["serve"], "win32").options.shell, undefined);
});

test("inside Max: handlers for the device's messages; the command setting is a command line", async () => {
  const handlers = {};
  const said = [];
  const fakeMax = { addHandler: (name, fn) => { handlers[name] = fn; }, outlet: (...m) => said.push(m) };
  const launcher = L.attach(fakeMax, { find: () => ({ argv: null, searched: [] }), settingsWaitMs: 10000 });
  try {
    assert.deepEqual(Object.keys(handlers).sort(), ["command", "port", "reply_port", "stop"]);
    assert.deepEqual(said, [["ready"]]);
    await handlers.reply_port();
    const [kind, port] = said.pop();
    assert.equal(kind, "reply_port");
    assert.ok(await L.portFree(port), "a port nothing holds, for the device's udpreceive");
    handlers.command('"/Users/me/My Venv/bin/beatguide" --log-level DEBUG');
    assert.deepEqual(L.parseCommand(launcher.command), ["/Users/me/My Venv/bin/beatguide", "--log-level", "DEBUG"]);
    handlers.command();
    assert.equal(launcher.command, "");
  } finally {
    await launcher.stop();
  }
});

test("OSC: the ping the launcher sends decodes as the server reads it; replies decode", () => {
  const ping = L.decodeMessage(L.encodePing(7, 9011));
  assert.deepEqual(ping, { address: "/bg/ping", args: [7, 9011] });
  assert.equal(L.encodePing(7, 9011).length % 4, 0);
  assert.equal(L.decodeMessage(Buffer.from("garbage")), null);
  assert.match("beatguide: serving on 127.0.0.1 port 50123: agvae2, baseline (Ctrl+C stops)\n", L.ANNOUNCE);
});
