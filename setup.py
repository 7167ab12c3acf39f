"""Packaging layout (metadata lives in pyproject.toml).

The import packages sit in their folders under their own names (server/beatguide,
export/beatguide_export); the shipped models stay in the top-level models/ folder and are mapped
into the wheel as ``beatguide.models``, one data package per model folder, read with
importlib.resources (beatguide.model_paths). pyproject.toml alone cannot add packages from
outside the folders ``packages.find`` searches, hence this file.
"""

from setuptools import find_namespace_packages, find_packages, setup

MODEL_PACKAGES = ["beatguide.models"] + [
    f"beatguide.models.{name}" for name in find_namespace_packages("models", exclude=["__pycache__*"])
]

setup(
    packages=find_packages("server") + find_packages("export") + MODEL_PACKAGES,
    package_dir={
        "beatguide": "server/beatguide",
        "beatguide_export": "export/beatguide_export",
        "beatguide.models": "models",
    },
    package_data={"beatguide": ["py.typed", "phrases.npz"], **{name: ["*"] for name in MODEL_PACKAGES[1:]}},
)
