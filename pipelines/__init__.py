"""Vigie: compliance watch of the marché interministériel beta.

Nothing is imported or read at import time: every module reads its configuration
when called (see `pipelines.config`).
"""

__version__ = "0.1.0"
