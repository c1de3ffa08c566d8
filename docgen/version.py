"""docgen's version (one place; read by the build backend and by provenance)."""

__version__ = "0.1.0"
