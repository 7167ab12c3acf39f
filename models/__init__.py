"""The shipped models, installed as the package data of ``beatguide.models`` (see setup.py)."""
