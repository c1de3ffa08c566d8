"""docgen: Word documents from data, with narrative sections written by a local model.

Public API (no Qt, llama_cpp or docx is imported by importing this package):
``__version__``, :func:`generate` (one document), :func:`run_batch` (many), and the errors in
:mod:`docgen.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docgen.version import __version__
from docgen.errors import (
    Cancelled,
    ContextOverflow,
    DataError,
    DocgenError,
    ModelError,
    ModelNotFound,
    RenderError,
    TemplateError,
)


__all__ = [
    "__version__",
    "generate",
    "run_batch",
    "DocgenError",
    "TemplateError",
    "DataError",
    "ModelError",
    "ModelNotFound",
    "ContextOverflow",
    "RenderError",
    "Cancelled",
]

if TYPE_CHECKING:  # pragma: no cover
    from docgen.batch import run_batch
    from docgen.pipeline import generate


def __getattr__(name: str) -> Any:
    """Import the pipeline lazily so that ``import docgen`` stays cheap."""
    if name == "generate":
        from docgen.pipeline import generate

        return generate
    if name == "run_batch":
        from docgen.batch import run_batch

        return run_batch
    raise AttributeError(name)
