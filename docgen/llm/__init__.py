"""Local model access: the Generator interface, backends, model discovery and prompt assembly.

:func:`open_generator` is the one way the pipeline gets a model. The llama.cpp backend is imported only when
it is asked for, so nothing here loads llama_cpp at import time.
"""

from __future__ import annotations

from pathlib import Path

from docgen.errors import DocgenError
from docgen.llm.base import Generation, Generator, Message
from docgen.llm.discovery import find_model

__all__ = ["Generation", "Generator", "Message", "find_model", "open_generator"]


def open_generator(backend: str = "llamacpp", *, model_path: str | Path | None = None, n_ctx: int = 4096,
                   n_threads: int = 2) -> Generator:
    """Create the generator for ``backend`` (``llamacpp`` or ``fake``).

    For ``llamacpp`` the model is found by :func:`docgen.llm.discovery.find_model` and loaded (about 0.2 s for
    the embedded 98 MB model). Raises ModelNotFound/ModelLoadError, or DocgenError for an unknown backend.
    """
    if backend == "fake":
        from docgen.llm.fake import FakeGenerator

        return FakeGenerator(n_ctx=n_ctx)
    if backend == "llamacpp":
        from docgen.llm.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(find_model(model_path), n_ctx=n_ctx, n_threads=n_threads)
    raise DocgenError(f"Unknown backend '{backend}'. Use 'llamacpp' (local model) or 'fake' (scripted demo).")
