// Pure logic of bg_core.js (the built copy, with the bg_spec.js generated from Python).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { load } = require("./helpers.js");

const core = load("bg_core.js");
const SPEC = core.BG_SPEC;
const STEPS = SPEC.grid.steps;
const LANES = SPEC.classes.length;
const plain = (x) => JSON.parse(JSON.stringify(x));
const note = (pitch, start, velocity) => ({ pitch, start_time: start, duration: 0.25, velocity, mute: 0 });
const ALL = { gestures: SPEC.gestures, lane_modes: SPEC.lane_modes, latent_sources: SPEC.latent_sources, aux: [], needs: "any" };

test("masks: bit s is step s, bit 31 makes the int32 negative, both forms read back", () => {
  const steps = new Array(STEPS).fill(0);
  steps[0] = 1; steps[4] = 1; steps[31] = 1;
  const m = core.bgMask(steps);
  assert.equal(m, (1 | 16 | 2 ** 31) | 0);
  assert.ok(m < 0);
  assert.deepEqual(plain(core.bgSteps(m)), steps);
  assert.deepEqual(plain(core.bgSteps(m >>> 0)), steps);
  assert.equal(core.bgMask(core.bgSteps(0x11111111)), 0x11111111);
});

test("quantize: offsets in half-steps, notes near the loop's ends are early step-0 hits", () => {
  assert.deepEqual(plain(core.bgQuantize(0.25)), { step: 1, offset: 0 });
  assert.deepEqual(plain(core.bgQuantize(0.25 + 0.125)), { step: 2, offset: -1 });
  assert.deepEqual(plain(core.bgQuantize(0.25 + 0.0625)), { step: 1, offset: 0.5 });
  const wrapped = core.bgQuantize(7.9);
  assert.equal(wrapped.step, 0);
  assert.ok(Math.abs(wrapped.offset + 0.8) < 1e-9);
  assert.equal(core.bgQuantize(8), null);
  assert.ok(Math.abs(core.bgQuantize(-0.1).offset + 0.8) < 1e-9);
  assert.equal(core.bgQuantize(-0.1).step, 0);
  assert.equal(core.bgQuantize(-0.13), null);
});

test("score: input map pitch -> class, unmapped and muted notes ignored", () => {
  const map = core.bgDefaultInputMap();
  const notes = [note(36, 0, 100), note(35, 2, 90), note(38, 1, 100), note(44, 0.5, 70), note(43, 3, 80),
    note(12, 1.5, 100), Object.assign(note(49, 0, 100), { mute: 1 })];
  const score = core.bgScoreFromNotes(notes, map);
  assert.equal(score[0], (1 << 0) | (1 << 8));   // kick 36 and 35
  assert.equal(score[1], 1 << 4);                // snare
  assert.equal(score[2], 1 << 2);                // 44 = closed HH
  assert.equal(score[4], 1 << 12);               // 43 = low tom in the GM map (note_seq's)
  assert.equal(score[7], 0);                     // muted crash
});

test("groove: per step the loudest note of any pitch", () => {
  const g = core.bgGrooveFromNotes([note(36, 0, 64), note(38, 0.02, 127), note(99, 1.05, 50)], core.bgDefaultInputMap());
  assert.equal(g.mask, (1 << 0) | (1 << 4));
  assert.equal(g.velocities[0], 1);
  assert.ok(Math.abs(g.offsets[0] - 0.16) < 1e-9);
  assert.ok(Math.abs(g.velocities[4] - 50 / 127) < 1e-9);
  assert.ok(Math.abs(g.offsets[4] - 0.4) < 1e-9);
});

test("accents: louder than the drum's mean + 1 std", () => {
  const map = core.bgDefaultInputMap();
  const hats = [];
  for (let s = 0; s < STEPS; s += 2) hats.push(note(42, s * 0.25, s % 8 === 0 ? 120 : 60));
  const acc = core.bgAccentsFromNotes(hats.concat([note(36, 0, 100), note(36, 2, 100)]), map);
  assert.equal(acc, core.bgMask(Array.from({ length: STEPS }, (_, s) => (s % 8 === 0 ? 1 : 0))));
});

test("layouts: pack and unpack are inverses; a missing field or a run of the wrong length is a bug", () => {
  const layout = [{ name: "a", type: "i", count: 1 }, { name: "b", type: "f", count: 3 }, { name: "c", type: "s", count: 1 }];
  const args = core.bgPack(layout, { a: 1, b: [0.5, 1, 2], c: "x" });
  assert.deepEqual(args, [1, 0.5, 1, 2, "x"]);
  assert.deepEqual(plain(core.bgUnpack(layout, args, 0)), { values: { a: 1, b: [0.5, 1, 2], c: "x" }, next: 5 });
  assert.equal(core.bgUnpack(layout, args.slice(0, 4), 0), null);
  assert.equal(core.bgUnpack(layout, [1, 0.5, "no", 2, "x"], 0), null);
  assert.throws(() => core.bgPack(layout, { a: 1, b: [0.5], c: "x" }), /b needs 3 values/);
  assert.throws(() => core.bgPack(layout, { a: 1, b: [1, 2, 3] }), /no value for c/);
});

test("replies are read by their spec shape; anything else is refused, never thrown", () => {
  const A = SPEC.addresses;
  const done = core.bgParseReply(A.done, [7, 2, 10, 3.5, 11, 12, 4]);
  assert.deepEqual(plain(done), { request_id: 7, variations: 2, total_notes: 10, elapsed_ms: 3.5, score_seed: 11,
    groove_seed: 12, bars: 4, items: [] });
  assert.equal(core.bgParseReply(A.done, [7, 2, 10, 3.5, 11, 12]), null);        // one short (protocol 3's)
  assert.equal(core.bgParseReply(A.done, [7, 2, 10, 3.5, 11, 12, 2, 13]), null); // one too many
  assert.equal(core.bgParseReply(A.error, [7, 3, "text"]), null);                 // a number for a string
  assert.equal(core.bgParseReply("/bg/other", [7]), null);
  const notes = core.bgParseReply(A.notes, [7, 0, 0, 1, 0.5, 0.25, 100, 2, 1.5, 0.25, 90]);
  assert.deepEqual(plain(notes.items[1]), { class: 2, start: 1.5, duration: 0.25, velocity: 90 });
  assert.equal(core.bgParseReply(A.notes, [7, 0, 0, 1, 0.5, 0.25]), null);        // a broken note
});

test("pong: model names with what each takes; protocol 2 capabilities decide the controls", () => {
  const bits = (names, vocab) => names.reduce((m, n) => m | (1 << vocab.indexOf(n)), 0);
  const pong = core.bgParseReply(SPEC.addresses.pong, [3, SPEC.protocol_version, 2,
    "agvae11", bits(["accents", "groove", "lanes"], SPEC.gestures), bits(SPEC.lane_modes, SPEC.lane_modes),
    bits(["prior", "bank"], SPEC.latent_sources), bits(["lanes", "groove"], SPEC.gestures), SPEC.needs.indexOf("any"),
    "baseline", bits(["score"], SPEC.gestures), bits(["decide", "given", "empty"], SPEC.lane_modes),
    bits(["prior"], SPEC.latent_sources), 0, SPEC.needs.indexOf("score")]);
  const { version, models } = core.bgModelsFromPong(pong);
  assert.equal(version, SPEC.protocol_version);
  assert.deepEqual(models.map((m) => m.name), ["agvae11", "baseline"]);
  assert.deepEqual(plain(models[1].caps), { gestures: ["score"], lane_modes: ["decide", "given", "empty"],
    latent_sources: ["prior"], aux: [], needs: "score" });
  assert.deepEqual(plain(core.bgControls(models[0].caps)),
    { score: true, lanes: true, groove: true, accents: true, latents: true, aux: true });
  assert.deepEqual(plain(core.bgControls(models[1].caps)),
    { score: true, lanes: true, groove: false, accents: false, latents: false, aux: false });
});

test("generate: every argument where the spec puts it; gestures a model does not take are not sent", () => {
  const st = core.bgEmptyState();
  st.score[0] = 0x11111111; st.score[1] = 0x10101010; st.score[2] = 0x55555555;
  st.laneModes[3] = SPEC.lane_modes.indexOf("exact");
  st.groove.mask = -2147483648; st.groove.velocities[31] = 0.5; st.groove.offsets[31] = -0.25;
  st.accents = 5;
  st.latentSource = SPEC.latent_sources.indexOf("bank");
  const req = { id: 7, replyPort: 9011, model: "m", caps: ALL, variations: 2, temperature: 1.0, seed: 42,
    scoreSeed: -1, grooveSeed: 9, state: st };
  const a = core.bgGenerateArgs(req);
  const at = {};
  for (const f of SPEC.generate.fields) at[f.name] = f.index;
  assert.equal(a.length, SPEC.generate.argc);
  assert.deepEqual(a.slice(0, at.lane_masks), [7, 9011, "m", 2, 1, 42, -1, 9, 7, 1]);
  assert.equal(a[at.lane_masks + 2], 0x55555555);
  assert.equal(a[at.lane_modes + 3], SPEC.lane_modes.indexOf("exact"));
  assert.equal(a[at.groove_mask], -2147483648);
  assert.equal(a[at.groove_velocities + 31], 0.5);
  assert.equal(a[at.groove_offsets + 31], -0.25);
  assert.equal(a[at.accent_mask], 5);
  for (let i = 0; i < a.length; i++) assert.equal(typeof a[i], SPEC.generate.types[i] === "s" ? "string" : "number");
  const scoreOnly = { gestures: ["score"], lane_modes: SPEC.lane_modes, latent_sources: ["prior"], aux: [], needs: "score" };
  const b = core.bgGenerateArgs(Object.assign({}, req, { caps: scoreOnly }));
  assert.equal(b[at.flags], SPEC.flags.score);
  assert.equal(b[at.latent_source], -1);  // the model has no bank: its default source
  const c = core.bgGenerateArgs(Object.assign({}, req, { state: core.bgEmptyState() }));
  assert.equal(c[at.latent_source], SPEC.latent_sources.indexOf(SPEC.default_latent_sources[0]));
});

test("a request the model cannot take is stopped with a reason", () => {
  const st = core.bgEmptyState();
  const caps = { gestures: ["score"], lane_modes: ["decide", "given", "empty"], latent_sources: ["prior"], aux: [], needs: "score" };
  assert.match(core.bgRequestProblem("baseline", caps, st), /baseline needs a score/);
  st.score[0] = 1;
  assert.equal(core.bgRequestProblem("baseline", caps, st), "");
  st.laneModes[1] = SPEC.lane_modes.indexOf("exact");
  assert.match(core.bgRequestProblem("baseline", caps, st), /does not take lane mode 'exact' \(snare\)/);
  const sog = Object.assign({}, caps, { gestures: ["score", "groove"], needs: "score_or_groove" });
  assert.match(core.bgRequestProblem("agvae2", sog, core.bgEmptyState()), /needs a score or a groove/);
  assert.equal(core.bgRequestProblem("any", null, core.bgEmptyState()), "");   // protocol 1: the server decides
});

test("replies: notes assembled per variation, total_notes checked", () => {
  const A = SPEC.addresses;
  const r = new core.BgReplies(3, 2);
  assert.ok(r.add(A.notes, core.bgParseReply(A.notes, [3, 0, 0, 0, 0.0, 0.2, 100, 1, 1.0, 0.2, 90])));
  assert.ok(r.add(A.notes, core.bgParseReply(A.notes, [3, 1, 0, 2, 0.5, 0.1, 70])));
  assert.ok(r.add(A.aux_score, core.bgParseReply(A.aux_score, [3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])));
  assert.equal(r.add(A.aux_score, core.bgParseReply(A.aux_score, [3, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9])), false);
  assert.deepEqual(plain(r.variations[0].notes[1]), { cls: 1, start: 1, duration: 0.2, velocity: 90 });
  assert.deepEqual(plain(r.variations[0].auxScore), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const ok = r.finish(core.bgParseReply(A.done, [3, 2, 3, 12.5, 11, 12, 2]));
  assert.deepEqual([ok.ok, ok.bars, ok.beats], [true, 2, 8]);
  const lost = r.finish(core.bgParseReply(A.done, [3, 2, 4, 12.5, 11, 12, 2]));
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

test("clip names and notes; every start lands inside the loop", () => {
  assert.equal(core.bgClipName("agvae2", 0, 1), "agvae2 v1 t1.0");
  assert.equal(core.bgClipName("agvae11", 2, 0.75, "aux score"), "agvae11 v3 t0.75 aux score");
  const out = core.bgLiveNotes([{ cls: 8, start: 0.5, duration: 0.1, velocity: 140 },
    { cls: 0, start: 8, duration: 0.25, velocity: 0 }, { cls: 0, start: -0.0625, duration: 0.25, velocity: 64 }],
  SPEC.pitches.output);
  assert.deepEqual(plain(out), [{ pitch: 51, start_time: 0.5, duration: 0.1, velocity: 127 },
    { pitch: 36, start_time: 0, duration: 0.25, velocity: 1 }, { pitch: 36, start_time: 7.9375, duration: 0.25, velocity: 64 }]);
  const g = core.bgGrooveNotes({ mask: 1 | (1 << 4), velocities: [1, 0, 0, 0, 0.5].concat(new Array(27).fill(0)),
    offsets: [-1, 0, 0, 0, 1].concat(new Array(27).fill(0)) }, 36);
  assert.deepEqual(plain(g.map((n) => [n.start_time, n.velocity])), [[7.875, 127], [1.125, 64]]);
});

test("saved state: a list that restores the same state; nothing saved yet, or another version", () => {
  const st = core.bgEmptyState();
  st.score[3] = -5; st.groove.mask = 9; st.groove.velocities[3] = 0.25; st.accents = 17;
  st.inputOverride[36] = 4; st.padOverride[2] = 44; st.model = "agvae2"; st.sendPort = 9100;
  const list = core.bgStateToList(st);
  assert.equal(list.length, core.bgLayoutLength(core.BG_STATE_LAYOUT));
  const back = core.bgEmptyState();
  assert.equal(core.bgStateFromList(back, list), "ok");
  assert.deepEqual(plain(back), plain(st));
  assert.equal(core.bgStateFromList(back, [0]), "empty");
  assert.equal(core.bgStateFromList(back, list.slice(1)), "other");
  assert.equal(core.bgStateFromList(back, [99].concat(list.slice(1))), "other");
  assert.equal(core.bgStateFromList(back, list.map((x) => (x === "agvae2" ? 5 : x))), "other");
});
