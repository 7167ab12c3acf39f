"""Typed errors: every user-facing failure is a BeatGuideError with a clear message."""


class BeatGuideError(Exception):
    """Base class of every error shown to a user (CLI message, OSC error reply)."""

    code = "error"


class MidiReadError(BeatGuideError):
    """A MIDI file that cannot be read: missing, corrupt, truncated."""

    code = "midi_read"


class EmptyInputError(BeatGuideError):
    """An input with no notes where notes are needed."""

    code = "empty"


class TimeSignatureError(BeatGuideError):
    """A file that is not in 4/4."""

    code = "time_signature"


class TempoError(BeatGuideError):
    """A missing or absurd tempo."""

    code = "tempo"


class WindowError(BeatGuideError):
    """Notes outside the 2-bar window."""

    code = "window"


class DrumMapError(BeatGuideError):
    """Unknown pitches or a malformed drum map."""

    code = "drum_map"


class InputError(BeatGuideError):
    """A malformed value: wrong shape, NaN, out of range."""

    code = "bad_value"


class NoInputError(BeatGuideError):
    """The gestures given are not enough for the model (e.g. the baseline without a score)."""

    code = "no_input"


class UnknownModelError(BeatGuideError):
    """A model name that is not loaded."""

    code = "unknown_model"


class ModelError(BeatGuideError):
    """A missing or corrupt model file, or a request the model cannot serve."""

    code = "model"


class DataError(BeatGuideError):
    """A dataset folder that is missing or not laid out as the Groove MIDI Dataset."""

    code = "data"


class OutputError(BeatGuideError):
    """A file or folder that cannot be written, or that would overwrite a file."""

    code = "output"


TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's CPU-only wheels (no CUDA download)


class TrainExtraError(BeatGuideError):
    """A command that needs PyTorch (the train extra) where it is not installed."""

    code = "train_extra"

    def __init__(self, what: str, cause: ImportError):
        super().__init__(
            f"{what} needs PyTorch, the train extra ({cause}): "
            f"pip install 'beatguide[train]' --extra-index-url {TORCH_CPU_INDEX}"
        )
