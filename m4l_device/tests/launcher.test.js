// bg_launcher.js (the Node for Max launcher) under plain Node, its Max side replaced by a recorder,
// against a real `beatguide serve`: first start, a second device reusing the server, the server
// killed and restarted, a foreign program on the port, the launcher dying, and the command search.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("node:dgram");
const path = require("node:path");
const { spawn, spawnSync } = require("node:child_process");
const L = require("../bg_launcher.js");

// How to run the server: $BG_BEATGUIDE (a `beatguide` executable), else $PYTHON -m beatguide.cli
// (tests/test_m4l_device.py passes the Python running pytest).
const PYTHON = process.env.PYTHON || "python3";
const COMMAND = process.env.BG_BEATGUIDE ? JSON.stringify(process.env.BG_BEATGUIDE) : `"${PYTHON}" -m beatguide.cli`;
const FAST = { checkEveryMs: 300, pingTimeoutMs: 300, backoffMs: [300, 600], settingsWaitMs: 50, busyPortWaitMs: 3000 };

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

  await t.test("the device that started it is removed: its server stops, the other starts its own", async () => {
    const gone_ = owner();
    const other = gone_ === a ? b : a;
    const pid = gone_.launcher.child.pid;
    const from = other.statuses().length;
    await gone_.launcher.stop();
    await gone(pid);
    assert.match(await other.until(/stopped answering/, 20000, from), new RegExp(`port ${port}`));
    await other.until(/^ready: \d+ models? \(started\)/, 60000, from);
    assert.ok(other.launcher.child && (await L.ping(port, 2000)));
    await other.launcher.stop();
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

test("the launcher's process dies: the server it started stops too (stdin lifeline)", { skip: SKIP, timeout: 120000 },
  async () => {
    const port = await freePort();
    const script = `
      const L = require(${JSON.stringify(path.resolve(__dirname, "..", "bg_launcher.js"))});
      const l = new L.Launcher((kind, ...args) => {
        if (kind === "status" && args[0].startsWith("ready")) console.log("pid " + l.child.pid);
      });
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
    assert.ok(await L.ping(port, 2000));
    host.kill("SIGKILL");  // no handler runs: only the closed pipe tells the server
    await gone(pid);
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
    const byHand = spawn(PYTHON, ["-m", "beatguide.cli", "serve", "--port", String(port)], { stdio: "ignore" });
    t.after(() => byHand.kill());
    assert.match(await d.until(/^ready/, 60000), new RegExp(`already running on port ${port}`));
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

  assert.deepEqual(L.findCommand('"/Applications/My Python/bin/beatguide"').argv, ["/Applications/My Python/bin/beatguide"]);
  assert.deepEqual(L.parseCommand("py -3.12 -m 'beatguide.cli'"), ["py", "-3.12", "-m", "beatguide.cli"]);
});

test("inside Max: handlers for the device's messages; the command setting is a command line", async () => {
  const handlers = {};
  const said = [];
  const fakeMax = { addHandler: (name, fn) => { handlers[name] = fn; }, outlet: (...m) => said.push(m) };
  const launcher = L.attach(fakeMax, { find: () => ({ argv: null, searched: [] }), settingsWaitMs: 10000 });
  try {
    assert.deepEqual(Object.keys(handlers).sort(), ["command", "port", "stop"]);
    assert.deepEqual(said, [["ready"]]);
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
