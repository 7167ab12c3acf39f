// Any number of devices on one server: four devices (each in its own Live Set stand-in), each with
// the reply port the launcher found free for it, send interleaved requests to one real
// `beatguide serve`; each gets exactly its own replies and writes exactly its own clips.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("node:dgram");
const { FakeLive, loadDevice, load, encodeOSC, decodeOSC, startServer } = require("./helpers.js");
const { freeUdpPort } = require("../bg_launcher.js");

const SPEC = load("bg_spec.js");
const A = SPEC.addresses;
const DEVICES = 4;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One device as Max runs it: its [udpsend] sends to the server, its [udpreceive] is a socket bound
// to whatever port the js tells it, and its launcher answers "reply_port" with a free port.
function instance(serverPort, k) {
  const live = new FakeLive({ slots: 8 });
  live.addDrumRack(live.track(0), { 36: "Kick", 38: "Snare", 42: "Closed Hat" });
  const send = dgram.createSocket("udp4");
  const d = { live, k, sockets: [], received: [], sentIds: new Set(), asked: [] };
  const listen = (port) => {
    for (const s of d.sockets) s.close();
    const sock = dgram.createSocket("udp4");
    sock.on("error", () => {});   // a random first port another program holds: the launcher's comes next
    sock.on("message", (buf) => {
      const { address, args } = decodeOSC(buf);
      d.received.push([address, args[0]]);
      d.dev.send(address, ...args);
    });
    sock.bind(port, "127.0.0.1");
    d.sockets = [sock];
  };
  d.dev = loadDevice(live, (n, message) => {
    if (n === 0 && String(message[0]).startsWith("/")) {
      if (message[0] === A.generate || message[0] === A.ping) d.sentIds.add(message[1]);
      send.send(encodeOSC(message[0], message.slice(1)), serverPort, "127.0.0.1");
    } else if (n === 1) listen(message[1]);
    else if (n === 5 && message[0] === "reply_port") d.asked.push(freeUdpPort().then((p) => d.dev.send("launcher", "reply_port", p)));
  });
  d.close = () => { for (const s of d.sockets) s.close(); send.close(); };
  return d;
}

test("four devices on one server, interleaved: each gets exactly its own replies", { timeout: 120000 }, async (t) => {
  const { port, log } = await startServer(t);
  const devices = Array.from({ length: DEVICES }, (_, k) => instance(port, k));
  t.after(() => devices.forEach((d) => d.close()));
  for (const d of devices) {
    d.dev.send("bang");
    d.dev.send("launcher", "port", port);   // the launcher found the server on this port
  }
  await Promise.all(devices.flatMap((d) => d.asked));
  const replyPorts = devices.map((d) => d.dev.ctx.replyPort);
  assert.equal(new Set(replyPorts).size, DEVICES, `distinct reply ports: ${replyPorts}`);

  const deadline = Date.now() + 20000;
  while (devices.some((d) => d.dev.ctx.server.models.length === 0)) {
    assert.ok(Date.now() < deadline, `not every device connected:\n${devices.map((d) => d.dev.status()).join("\n")}\n${log()}`);
    for (const d of devices) d.dev.tick();
    await sleep(100);
  }
  const models = devices[0].dev.ctx.server.models;
  const pick = models.findIndex((m) => m.caps && (m.caps.gestures.includes("score") || m.caps.gestures.includes("lanes")));
  assert.ok(pick >= 0, JSON.stringify(models));

  // Every device asks for a different number of variations, twice, all requests out at once.
  for (const d of devices) {
    d.dev.send("model", pick);
    d.dev.send("variations", d.k + 1);
    d.dev.send("cell", 0, 4 * d.k, 1);
    d.dev.send("cell", 1, 8, 1);
  }
  for (const round of [0, 1]) {
    for (const d of devices) d.dev.send(round === 0 ? "generate" : "regenerate", 1);
    const until = Date.now() + 30000;
    while (devices.some((d) => !/variations written/.test(d.dev.status()))) {
      assert.ok(Date.now() < until, `round ${round}:\n${devices.map((d) => d.dev.status()).join("\n")}\n${log()}`);
      await sleep(50);
    }
  }
  for (const d of devices) {
    const names = d.live.tracks[0].slots.filter((s) => s.clip).map((s) => s.clip.props.name);
    assert.equal(names.length, 2 * (d.k + 1), `device ${d.k}: ${names}`);
    const foreign = d.received.filter(([, id]) => !d.sentIds.has(id));
    assert.deepEqual(foreign, [], `device ${d.k} received replies to requests it never sent`);
    assert.ok(d.received.filter(([address]) => address === A.done).length === 2);
  }
});
