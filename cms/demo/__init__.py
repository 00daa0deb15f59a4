"""The demo site `make run` shows (`manage.py load_demo`). It imports every app; no app imports it."""

from .loader import demo_load

__all__ = ["demo_load"]
