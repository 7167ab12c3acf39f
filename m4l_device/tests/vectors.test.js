// One source of truth: bg_core.js against request / reply vectors that Python built
// (`python server/lab/vectors.py`): the same inputs must give the same /bg/generate arguments, and
// the same messages must assemble into the same notes, readings, seeds and model capabilities, and
// the same clips must read as the same score, groove and accents (gestures.read_notes).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { PYTHON, ROOT, load } = require("./helpers.js");

const core = load("bg_core.js");
const SPEC = core.BG_SPEC;
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bg-vectors-")), "vectors.json");
execFileSync(PYTHON, [path.join(ROOT, "server", "lab", "vectors.py"), file]);
const V = JSON.parse(fs.readFileSync(file, "utf8"));
const plain = (x) => JSON.parse(JSON.stringify(x));

test("the device's constants are the spec Python writes", () => {
  assert.deepEqual(plain(SPEC), V.spec);
});

test("requests: the same inputs give the same /bg/generate arguments", () => {
  // A model that takes everything: which gestures go out is then decided by what is drawn.
  const caps = { gestures: SPEC.gestures, lane_modes: SPEC.lane_modes, latent_sources: SPEC.latent_sources, aux: [], needs: "any" };
  assert.ok(V.requests.length >= 4);
  for (const r of V.requests) {
    const x = r.input;
    const st = core.bgEmptyState();
    st.score = x.lane_masks;
    st.laneModes = x.lane_modes.map((m) => SPEC.lane_modes.indexOf(m));
    st.groove = x.use_groove ? x.groove : { mask: 0, velocities: new Array(SPEC.grid.steps).fill(0), offsets: new Array(SPEC.grid.steps).fill(0) };
    st.accents = x.use_accents ? x.accent_mask : 0;
    st.latentSource = SPEC.latent_sources.indexOf(x.latent_source);
    const args = core.bgGenerateArgs({ id: x.request_id, replyPort: x.reply_port, model: x.model, caps,
      variations: x.variations, temperature: x.temperature, seed: x.seed, scoreSeed: x.score_seed,
      grooveSeed: x.groove_seed, state: st,
      phrase: core.bgPhrase(SPEC.phrase.bars.indexOf(x.bars), x.fill, x.timing, x.velocity) });
    assert.deepEqual(args, r.args, r.name);
    assert.equal(args.map((a) => (typeof a === "string" ? "s" : "n")).join(""),
      r.types.replace(/[if]/g, "n"), r.name);
  }
});

test("replies: the same messages assemble into what Python's ReplyAssembler reads", () => {
  const A = SPEC.addresses;
  let seen = 0;
  for (const r of V.replies) {
    const e = r.expect;
    const parsed = r.messages.map(([address, args]) => [address, core.bgParseReply(address, args)]);
    for (const [address, p] of parsed) assert.notEqual(p, null, `${r.name}: ${address} does not parse`);
    const last = parsed[parsed.length - 1];
    if (last[0] === A.done) {
      const replies = new core.BgReplies(r.request_id, e.variations.length);
      for (const [address, p] of parsed.slice(0, -1)) assert.ok(replies.add(address, p), `${r.name}: ${address}`);
      const done = replies.finish(last[1]);
      assert.equal(done.ok, true, done.error);
      assert.deepEqual([last[1].variations, last[1].total_notes, done.elapsedMs, done.scoreSeed, done.grooveSeed,
        done.bars], e.done);
      e.variations.forEach((ev, v) => {
        const got = replies.variations[v];
        assert.deepEqual(got.notes.map((n) => [n.cls, n.start, n.duration, n.velocity]), ev.notes, `${r.name} v${v}`);
        assert.deepEqual(got.auxScore, ev.aux_score);
        assert.deepEqual(got.auxAccents, ev.aux_accents);
        assert.deepEqual(plain(got.auxGroove), ev.aux_groove);
        for (const n of core.bgLiveNotes(got.notes, SPEC.pitches.output, done.beats)) {
          assert.ok(n.start_time >= 0 && n.start_time < done.beats, `${r.name}: a note at ${n.start_time}`);
        }
      });
      seen++;
    } else if (last[0] === A.pong) {
      const models = {};
      for (const m of core.bgModelsFromPong(last[1]).models) models[m.name] = m.caps;
      assert.deepEqual(plain(models), e.models);
      assert.ok(Object.keys(models).length > 0);
      seen++;
    } else if (last[0] === A.error) {
      assert.deepEqual([last[1].code, last[1].text], e.error);
      seen++;
    } else if (last[0] === A.status) {
      const s = last[1];
      assert.deepEqual([s.queued, s.served, s.errors, s.uptime_s], e.status);
      seen++;
    }
  }
  assert.equal(seen, V.replies.length);
});

test("readings: every clip reads as Python reads it (named edge cases, then thousands of random clips)", () => {
  const map = core.bgDefaultInputMap();
  assert.ok(V.readings.length >= 2000);
  const bad = [];
  for (const r of V.readings) {
    const score = core.bgScoreFromNotes(r.notes, map);
    const g = core.bgGrooveFromNotes(r.notes, map);
    const accents = core.bgAccentsFromNotes(r.notes, map);
    const why = [];
    if (JSON.stringify(score) !== JSON.stringify(r.score)) why.push(`score ${score} != ${r.score}`);
    if (accents !== r.accents) why.push(`accents ${accents} != ${r.accents}`);
    if (g.mask !== r.groove.mask) why.push(`groove mask ${g.mask} != ${r.groove.mask}`);
    for (let s = 0; s < SPEC.grid.steps; s++) {
      // Python keeps float32: velocities compare as MIDI velocities, offsets to float32 precision
      if (Math.round(g.velocities[s] * 127) !== Math.round(r.groove.velocities[s] * 127)) why.push(`velocity at ${s}`);
      if (Math.abs(g.offsets[s] - r.groove.offsets[s]) > 1e-6) why.push(`offset at ${s}: ${g.offsets[s]} != ${r.groove.offsets[s]}`);
    }
    if (why.length) bad.push(`${r.name}: ${why.join("; ")}`);
  }
  assert.deepEqual(bad, [], `${bad.length} of ${V.readings.length} clips read differently`);
});
