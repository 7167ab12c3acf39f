// Pure logic of bg_core.js.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const core = require("../bg_core.js");

const plain = (x) => JSON.parse(JSON.stringify(x));
const note = (pitch, start, velocity) => ({ pitch, start_time: start, duration: 0.25, velocity, mute: 0 });

test("masks: bit s is step s, bit 31 makes the int32 negative, both forms read back", () => {
  const steps = new Array(32).fill(0);
  steps[0] = 1; steps[4] = 1; steps[31] = 1;
  const m = core.bgMask(steps);
  assert.equal(m, (1 | 16 | 2 ** 31) | 0);
  assert.ok(m < 0);
  assert.deepEqual(plain(core.bgSteps(m)), steps);
  assert.deepEqual(plain(core.bgSteps(m >>> 0)), steps);
  assert.equal(core.bgMask(core.bgSteps(0x11111111)), 0x11111111);
});

test("quantize: offsets in half-steps, late notes near the loop end wrap to step 0", () => {
  assert.deepEqual(plain(core.bgQuantize(0.25)), { step: 1, offset: 0 });
  assert.deepEqual(plain(core.bgQuantize(0.25 + 0.125)), { step: 2, offset: -1 });   // half a step early of step 2
  assert.deepEqual(plain(core.bgQuantize(0.25 + 0.0625)), { step: 1, offset: 0.5 });
  const wrapped = core.bgQuantize(7.9);
  assert.equal(wrapped.step, 0);
  assert.ok(Math.abs(wrapped.offset + 0.8) < 1e-9);
  assert.equal(core.bgQuantize(8), null);
  assert.equal(core.bgQuantize(-0.1), null);
});

test("score: input map pitch -> class, unmapped and muted notes ignored", () => {
  const map = core.bgDefaultInputMap();
  const notes = [note(36, 0, 100), note(35, 2, 90), note(38, 1, 100), note(44, 0.5, 70), note(43, 3, 80),
    note(12, 1.5, 100), Object.assign(note(49, 0, 100), { mute: 1 })];
  const score = core.bgScoreFromNotes(notes, map);
  assert.equal(score[0], (1 << 0) | (1 << 8));   // kick 36 and 35
  assert.equal(score[1], 1 << 4);                // snare
  assert.equal(score[2], 1 << 2);                // 44 = closed HH
  assert.equal(score[6], 1 << 12);               // 43 = high tom in the GM map
  assert.equal(score[7], 0);                     // muted crash
});

test("groove: per step the loudest note of any pitch", () => {
  const g = core.bgGrooveFromNotes([note(36, 0, 64), note(38, 0.02, 127), note(99, 1.05, 50)]);
  assert.equal(g.mask, (1 << 0) | (1 << 4));
  assert.equal(g.velocities[0], 1);
  assert.ok(Math.abs(g.offsets[0] - 0.16) < 1e-9);
  assert.ok(Math.abs(g.velocities[4] - 50 / 127) < 1e-9);
  assert.ok(Math.abs(g.offsets[4] - 0.4) < 1e-9);
});

test("accents: louder than the drum's mean + 1 std", () => {
  const map = core.bgDefaultInputMap();
  const hats = [];
  for (let s = 0; s < 32; s += 2) hats.push(note(42, s * 0.25, s % 8 === 0 ? 120 : 60));
  const acc = core.bgAccentsFromNotes(hats.concat([note(36, 0, 100), note(36, 2, 100)]), map);
  assert.equal(acc, core.bgMask(Array.from({ length: 32 }, (_, s) => (s % 8 === 0 ? 1 : 0))));
});

test("generate: 93 arguments in the protocol's order", () => {
  const st = core.bgEmptyState();
  st.score[0] = 0x11111111; st.score[1] = 0x10101010; st.score[2] = 0x55555555;
  st.groove.mask = -2147483648; st.groove.velocities[31] = 0.5; st.groove.offsets[31] = -0.25;
  st.accents = 5;
  const a = core.bgGenerateArgs({ id: 7, replyPort: 9011, model: "agvae2", variations: 2, temperature: 1.0, seed: 42,
    scoreSeed: -1, grooveSeed: 9, useScore: true, useGroove: true, useAccents: false, state: st });
  assert.equal(a.length, 93);
  assert.deepEqual(plain(a.slice(0, 12)), [7, 9011, "agvae2", 2, 1, 42, -1, 9, 3, 0x11111111, 0x10101010, 0x55555555]);
  assert.deepEqual(plain(a.slice(18, 27)), new Array(9).fill(1));
  assert.equal(a[27], -2147483648);
  assert.equal(a[59], 0.5);
  assert.equal(a[91], -0.25);
  assert.equal(a[92], 5);
  for (const x of a) assert.ok(typeof x === "string" || Number.isFinite(x));
});

test("replies: notes assembled per variation, total_notes checked", () => {
  const r = new core.BgReplies(3, 2);
  r.addNotes([0, 0, 0, 0.0, 0.2, 100, 1, 1.0, 0.2, 90]);
  r.addNotes([1, 0, 2, 0.5, 0.1, 70]);
  r.addAux("score", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(plain(r.variations[0].notes[1]), { cls: 1, start: 1, duration: 0.2, velocity: 90 });
  assert.deepEqual(plain(r.variations[0].auxScore), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(r.finish([2, 3, 12.5, 11, 12]).ok, true);
  const lost = r.finish([2, 4, 12.5, 11, 12]);
  assert.equal(lost.ok, false);
  assert.match(lost.error, /lost notes: received 3 of 4/);
});

test("slots: first empty slots after the selected one, all or nothing", () => {
  const hasClip = [1, 0, 1, 0, 0, 1, 0];
  assert.deepEqual(plain(core.bgChooseSlots(hasClip, -1, 3)), [1, 3, 4]);
  assert.deepEqual(plain(core.bgChooseSlots(hasClip, 2, 3)), [3, 4, 6]);
  assert.equal(core.bgChooseSlots(hasClip, 2, 4), null);
  assert.equal(core.bgChooseSlots([1, 1, 1], -1, 1), null);
});

test("clip names and notes", () => {
  assert.equal(core.bgClipName("agvae2", 0, 1), "agvae2 v1 t1.0");
  assert.equal(core.bgClipName("agvae11", 2, 0.75, "aux score"), "agvae11 v3 t0.75 aux score");
  const out = core.bgLiveNotes([{ cls: 8, start: 0.5, duration: 0.1, velocity: 140 }], core.BG_DEFAULT_OUTPUT);
  assert.deepEqual(plain(out), [{ pitch: 51, start_time: 0.5, duration: 0.1, velocity: 127 }]);
  const g = core.bgGrooveNotes({ mask: 1 | (1 << 4), velocities: [1, 0, 0, 0, 0.5].concat(new Array(27).fill(0)),
    offsets: [-1, 0, 0, 0, 1].concat(new Array(27).fill(0)) }, 36);
  assert.deepEqual(plain(g.map((n) => [n.start_time, n.velocity])), [[7.875, 127], [1.125, 64]]);
});

test("saved state: a list of numbers that restores the same state", () => {
  const st = core.bgEmptyState();
  st.score[3] = -5; st.groove.mask = 9; st.groove.velocities[3] = 0.25; st.accents = 17; st.inputMap[36] = 4;
  const list = core.bgStateToList(st);
  for (const x of list) assert.equal(typeof x, "number");
  const back = core.bgEmptyState();
  assert.equal(core.bgStateFromList(back, list), true);
  assert.deepEqual(plain(back), plain(st));
  assert.equal(core.bgStateFromList(back, list.slice(1)), false);
});
