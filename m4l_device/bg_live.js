// Beat Guide device: the Live Object Model side (classic js, ES5). Where the device sits, the Drum
// Rack it plays, reading and writing clips. Every path, property and call here is one the Live
// Object Model documents; the Node tests run it against a strict stand-in that refuses any other.
// Loaded by beatguide.js with include("bg_live.js"), after bg_core.js. LiveAPI exists only once
// live.thisdevice has banged: nothing here runs before.

var BG_INSTRUMENT = 1;   // Device.type: 1 instrument, 2 audio effect, 4 MIDI effect

function bgApi(path) { return new LiveAPI(null, path); }

function bgPathOf(api) { return String(api.unquotedpath); }

function bgNameOf(api) { return api.get("name").join(" "); }

function bgFlag(api, property) { return Number(api.get(property)[0]) === 1; }

// Where this device sits: {trackPath, trackId, chainPath, index}. A device's canonical path is
// "live_set tracks N devices M", or in a rack "live_set tracks N devices M chains L devices K":
// the track is its first three words, whatever the nesting (this_device canonical_parent would be
// a Chain in a rack, which has no clip slots). Paths are positions, true only now: what must stay
// pointed at one object (the track and slot a request writes to) is kept by id.
function bgWhere() {
    var words = bgPathOf(bgApi("this_device")).split(" ");
    var last = words.lastIndexOf("devices");
    var trackPath = words.slice(0, words.indexOf("devices")).join(" ");
    return {
        trackPath: trackPath,
        trackId: Number(bgApi(trackPath).id),
        chainPath: words.slice(0, last).join(" "),
        index: parseInt(words[last + 1], 10)
    };
}

// A Drum Rack, empty or not (has_drum_pads is false for an empty one).
function bgIsDrumRack(api) {
    return bgFlag(api, "can_have_drum_pads");
}

// The Drum Rack this device plays: the first instrument after it in its device chain when that is
// a Drum Rack, or a Drum Rack inside it when it is an Instrument Rack (one level down).
// Returns {path, name, chains: [device chain paths to watch]}, or null.
function bgFindDrumRack(where) {
    var count = bgApi(where.chainPath).getcount("devices");
    for (var i = where.index + 1; i < count; i++) {
        var path = where.chainPath + " devices " + i;
        var dev = bgApi(path);
        if (Number(dev.get("type")[0]) !== BG_INSTRUMENT) continue;   // MIDI effects in between
        if (bgIsDrumRack(dev)) return { path: path, name: bgNameOf(dev), chains: [where.chainPath] };
        if (!bgFlag(dev, "can_have_chains")) return null;
        var chains = dev.getcount("chains");
        var watched = [where.chainPath];
        for (var ch = 0; ch < chains; ch++) {
            var chainPath = path + " chains " + ch;
            watched.push(chainPath);
            var n = bgApi(chainPath).getcount("devices");
            for (var d = 0; d < n; d++) {
                var inner = bgApi(chainPath + " devices " + d);
                if (bgIsDrumRack(inner)) return { path: chainPath + " devices " + d, name: bgNameOf(inner), chains: watched };
            }
        }
        return null;
    }
    return null;
}

// The rack's pads that hold a chain: [{note, name, path}], by note.
function bgReadPads(rackPath) {
    var pads = [];
    var n = bgApi(rackPath).getcount("drum_pads");
    for (var i = 0; i < n; i++) {
        var path = rackPath + " drum_pads " + i;
        var pad = bgApi(path);
        if (pad.getcount("chains") === 0) continue;
        pads.push({ note: Number(pad.get("note")[0]), name: bgNameOf(pad), path: path });
    }
    pads.sort(function (a, b) { return a.note - b.note; });
    return pads;
}

// Observes `property` of the object at `path` and calls onChange() when its value changes. Live
// reports the current value when observation starts; that report is not a change.
function bgWatch(path, property, onChange) {
    var last = null;
    var api = new LiveAPI(function (args) {
        if (args[0] !== property) return;   // "id N": the object the API points to, not a change
        var value = args.slice(1).join(" ");
        if (value === last) return;
        last = value;
        onChange();
    }, path);
    last = api.get(property).join(" ");
    api.property = property;
    return api;
}

function bgUnwatch(watchers) {
    for (var i = 0; i < watchers.length; i++) watchers[i].property = "";
}

// ---------------------------------------------------------------- clips

// The clip shown in the detail view: {api, midi} or null.
function bgDetailClip() {
    var clip = bgApi("live_set view detail_clip");
    if (Number(clip.id) === 0) return null;
    return { api: clip, midi: bgFlag(clip, "is_midi_clip"), name: bgNameOf(clip) };
}

// The notes of a clip's first loop (BG_LOOP_BEATS from clip time 0), as LOM note dictionaries.
function bgClipNotes(clip) {
    var res = clip.call("get_notes_extended", 0, BG_MIDI_PITCHES, 0, BG_LOOP_BEATS);
    if (typeof res === "string") res = JSON.parse(res);
    return res.notes;
}

// The ids of a list child (e.g. a track's clip_slots), in order: get() answers "id 4 id 7 ...".
function bgIds(api, child) {
    var words = api.get(child);
    var ids = [];
    for (var i = 1; i < words.length; i += 2) ids.push(Number(words[i]));
    return ids;
}

// Where a request's clips go, captured when it is sent: {trackId, slotId} of this device's track
// and of the highlighted clip slot when it is on that track (slotId 0: from the top).
function bgTarget() {
    var where = bgWhere();
    var slot = bgApi("live_set view highlighted_clip_slot");
    var slotId = Number(slot.id);
    if (slotId !== 0 && bgIds(bgApi(where.trackPath), "clip_slots").indexOf(slotId) < 0) slotId = 0;
    return { trackId: where.trackId, slotId: slotId };
}

// Writes clips ({name, notes, beats}: beats, the clip's length, default 2 bars) into the first empty slots below the target's slot, on the target's
// track, both found by id now: tracks and scenes inserted, deleted or moved since the request was
// sent change nothing. Never touches a slot that holds a clip. All or nothing; returns
// {ok: true}, or {ok: false, gone: "track" | "slot"} when the target was deleted, or
// {ok: false, start, free} (the target slot's index and the empty slots below it) when too few
// slots are empty.
function bgWriteClips(target, clips) {
    var track = bgApi("id " + target.trackId);
    if (Number(track.id) === 0) return { ok: false, gone: "track" };
    var ids = bgIds(track, "clip_slots");
    var start = target.slotId === 0 ? -1 : ids.indexOf(target.slotId);
    if (target.slotId !== 0 && start < 0) return { ok: false, gone: "slot" };
    var hasClip = [];
    var i;
    for (i = 0; i < ids.length; i++) hasClip.push(bgFlag(bgApi("id " + ids[i]), "has_clip") ? 1 : 0);
    var slots = bgChooseSlots(hasClip, start, clips.length);
    if (slots === null) {
        var free = 0;
        for (i = start + 1; i < ids.length; i++) if (!hasClip[i]) free++;
        return { ok: false, start: start, free: free };
    }
    for (i = 0; i < clips.length; i++) {
        var slot = bgApi("id " + ids[slots[i]]);
        slot.call("create_clip", clips[i].beats || BG_LOOP_BEATS);
        var clip = bgApi("id " + Number(slot.get("clip")[1]));
        clip.call("add_new_notes", { notes: clips[i].notes });
        clip.set("looping", 1);
        clip.set("name", clips[i].name);
    }
    return { ok: true };
}

// The song position in beats, whether the transport plays or the metronome counts in, and the bar
// length in beats.
function bgTransport() {
    var song = bgApi("live_set");
    var quarters = 4 * Number(song.get("signature_numerator")[0]) / Number(song.get("signature_denominator")[0]);
    return { beat: Number(song.get("current_song_time")[0]), playing: bgFlag(song, "is_playing"),
        countingIn: bgFlag(song, "is_counting_in"), bar: quarters };
}
