"""Offline generation into MIDI files (filled in with the engine)."""


def add_generate_args(p) -> None:
    pass
