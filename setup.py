"""Packaging layout (metadata lives in pyproject.toml).

The import packages sit in their folders under their own names (server/beatguide,
export/beatguide_export); the shipped models stay in the top-level models/ folder and are mapped
into the wheel as the package data of ``beatguide.models``, read with importlib.resources
(beatguide.model_paths). pyproject.toml alone cannot add a package from outside the folders
``packages.find`` searches, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages("server") + find_packages("export") + ["beatguide.models"],
    package_dir={"beatguide": "server/beatguide", "beatguide_export": "export/beatguide_export",
                 "beatguide.models": "models"},
    package_data={"beatguide": ["py.typed"], "beatguide.models": ["*/*"]},
    exclude_package_data={"beatguide.models": ["__pycache__/*"]},
)
