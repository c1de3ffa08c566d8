"""Atomic writes for the renderer; the implementation lives in :mod:`docgen.files` (shared with reports,
provenance sidecars and settings)."""

from docgen.files import TEMP_PREFIX, TEMP_SUFFIX, atomic_write, prepare_folder

__all__ = ["TEMP_PREFIX", "TEMP_SUFFIX", "atomic_write", "prepare_folder"]
