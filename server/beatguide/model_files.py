"""Reading a shipped model's files: their bytes, and onnxruntime sessions built from them, each
failure a :class:`~beatguide.errors.ModelError` that names the file."""

from __future__ import annotations

from pathlib import Path

from .errors import ModelError


def read(path: Path) -> bytes:
    """The file's bytes."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ModelError(f"{path}: missing model file ({e.strerror})") from None


def session(blob: bytes, path: Path, threads: int = 1):
    """An onnxruntime CPU session of the ONNX graph ``blob`` (read from ``path``), on ``threads`` threads."""
    import onnxruntime as ort  # here, not at import: the protocol's facts (the device build) need numpy alone

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelError(f"{path}: onnxruntime cannot load it ({e})") from None
