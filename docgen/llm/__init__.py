"""Model access: the Generator interface, the backends, model discovery and prompt assembly.

:func:`open_generator` is the one way the pipeline gets a model. Backends are found in a small registry
(:data:`BACKENDS`: name -> ``"module:factory"``), imported only when asked for, so nothing here loads llama_cpp
or opens a connection at import time. A factory takes keyword options and ignores the ones it does not use
(``model_path``, ``n_ctx``, ``n_threads`` for the local model; ``base_url``, ``model``, ``api_key``,
``concurrency``, timeouts for a server). :func:`open_configured` builds those options from the settings.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.errors import DocgenError
from docgen.llm.base import Generation, Generator, Message
from docgen.llm.discovery import find_model

if TYPE_CHECKING:
    from docgen.settings import Settings

__all__ = ["Generation", "Generator", "Message", "find_model", "open_generator", "open_configured", "BACKENDS",
           "register_backend"]

#: backend name -> "module:function" creating its Generator from keyword options
BACKENDS: dict[str, str] = {
    "llamacpp": "docgen.llm.llamacpp:open_llamacpp",
    "openai": "docgen.llm.openai:open_openai",
    "fake": "docgen.llm.fake:open_fake",
}
_DESCRIPTIONS = {"llamacpp": "local model", "openai": "OpenAI-compatible server", "fake": "scripted demo"}


def register_backend(name: str, target: str, description: str = "") -> None:
    """Add (or replace) backend ``name``: ``target`` is ``"module:function"``, the function taking keyword options
    and returning a Generator."""
    BACKENDS[name] = target
    if description:
        _DESCRIPTIONS[name] = description


def open_generator(backend: str = "llamacpp", *, model_path: str | Path | None = None, n_ctx: int = 4096,
                   n_threads: int = 2, **options: Any) -> Generator:
    """Create the generator for ``backend`` (a name in :data:`BACKENDS`) with ``options``.

    ``llamacpp`` finds the model with :func:`docgen.llm.discovery.find_model` and loads it (about 0.2 s for the
    embedded 98 MB model; ``parallel`` caps the sequences it decodes at once, 0: by cores); ``openai`` connects
    to ``base_url`` and checks the model it serves. Raises ModelNotFound/ModelLoadError, ServerError,
    PolicyError, or DocgenError for an unknown backend.
    """
    target = BACKENDS.get(backend)
    if target is None:
        known = ", ".join(f"'{name}' ({_DESCRIPTIONS.get(name, name)})" for name in BACKENDS)
        raise DocgenError(f"Unknown backend '{backend}'. Use one of {known}.")
    module, _, function = target.partition(":")
    factory = getattr(importlib.import_module(module), function)
    return factory(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, **options)


def open_configured(settings: Settings, *, jobs: int | None = None, **overrides: Any) -> Generator:
    """The generator ``settings`` describe: backend, model file, threads, context window, and for ``openai`` the
    server URL, model name, API key (settings, policy, else the DOCGEN_SERVER_API_KEY variable), read timeout,
    the TLS rule, and ``jobs`` (default ``settings.jobs``; 0 = the backend chooses, see ``suggested_jobs``)
    requests at once; every backend gets it as ``parallel`` (the local engine's sequences). ``overrides`` replace
    options (tests: retries, backoff)."""
    jobs = settings.jobs if jobs is None else jobs
    options: dict[str, Any] = {
        "model_path": settings.model_path or None, "n_ctx": settings.n_ctx, "n_threads": settings.effective_threads(),
        "parallel": jobs,
    }
    if settings.backend == "openai":
        options.update(base_url=settings.server_url, model=settings.server_model, api_key=settings.api_key(),
                       read_timeout=settings.server_timeout, require_tls=settings.server_require_tls,
                       concurrency=jobs)
    options.update(overrides)
    return open_generator(settings.backend, **options)
