"""The nine drum classes and the pitch maps between MIDI notes and classes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DrumMapError

CLASSES = ("kick", "snare", "closed_hihat", "open_hihat", "low_tom", "mid_tom", "high_tom", "crash", "ride")
N_CLASSES = len(CLASSES)

# Groove MIDI Dataset (Roland TD-11) -> class, as GrooVAE reads it (training map).
GMD_PITCHES = (
    (36,),
    (38, 37, 40),
    (42, 22, 44),
    (46, 26),
    (43, 58),
    (47, 45),
    (50, 48),
    (49, 52, 55, 57),
    (51, 53, 59),
)
# General MIDI / Drum Rack -> class (user map): note_seq's current default drum map
# (DEFAULT_DRUM_TYPE_PITCHES in note_seq/drums_encoder_decoder.py), which also reads the Roland
# hi-hat notes 22 and 26. It differs from the GMD map on 45 (low vs mid tom), 48 (mid vs high tom)
# and 58 (crash vs low tom), and reads many more GM pitches.
GM_PITCHES = (
    (36, 35),
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),
    (46, 67, 72, 74, 79, 81, 26),
    (45, 29, 41, 43, 61, 64, 84),
    (48, 47, 60, 63, 77, 86, 87),
    (50, 30, 62, 76, 83),
    (49, 52, 55, 57, 58),
    (51, 53, 59, 82),
)
DEFAULT_OUTPUT_PITCHES = tuple(p[0] for p in GM_PITCHES)  # 36 38 42 46 45 48 50 49 51


@dataclass(frozen=True)
class DrumMap:
    """Which MIDI pitches read as each class, and the pitch each class is written as."""

    input_pitches: tuple[tuple[int, ...], ...] = GM_PITCHES
    output_pitches: tuple[int, ...] = DEFAULT_OUTPUT_PITCHES
    _lookup: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.input_pitches) != N_CLASSES or len(self.output_pitches) != N_CLASSES:
            raise DrumMapError(f"a drum map needs {N_CLASSES} classes ({', '.join(CLASSES)})")
        lookup: dict[int, int] = {}
        for cls, pitches in enumerate(self.input_pitches):
            for p in pitches:
                _check_pitch(p)
                lookup.setdefault(int(p), cls)
        for p in self.output_pitches:
            _check_pitch(p)
        object.__setattr__(self, "_lookup", lookup)

    def class_of(self, pitch: int) -> int | None:
        """The class a pitch reads as, or None for a pitch outside the map."""
        return self._lookup.get(int(pitch))

    def with_output(self, pitches) -> DrumMap:
        return DrumMap(self.input_pitches, tuple(int(p) for p in pitches))

    @classmethod
    def parse_output(cls, text: str, base: DrumMap | None = None) -> DrumMap:
        """Parse '36,38,42,...' (nine pitches) into a map with those output pitches."""
        try:
            pitches = [int(t) for t in text.replace(",", " ").split()]
        except ValueError:
            raise DrumMapError(f"output pitches must be {N_CLASSES} integers, got {text!r}") from None
        return (base or cls()).with_output(pitches)


def _check_pitch(p) -> None:
    if not (0 <= int(p) <= 127):
        raise DrumMapError(f"MIDI pitch {p} is outside 0..127")


GMD_MAP = DrumMap(GMD_PITCHES, DEFAULT_OUTPUT_PITCHES)
GM_MAP = DrumMap(GM_PITCHES, DEFAULT_OUTPUT_PITCHES)
# A tapped groove may use any pitch: every pitch reads as one class, so the loudest tap per step wins.
TAP_MAP = DrumMap((tuple(range(128)),) + ((),) * (N_CLASSES - 1), DEFAULT_OUTPUT_PITCHES)
INPUT_MAPS = {"gm": GM_MAP, "gmd": GMD_MAP}
