"""docgen's one exception tree.

Every error a user can cause (bad template, bad data, missing model, unwritable folder) is a
:class:`DocgenError`; its ``str()`` is the message shown by the CLI and in the GUI's error dialog, and it
always says *what* went wrong, *where* (file, row, column, tag, part of the document) and *how to fix it*.

::

    DocgenError
    +-- TemplateError                 template package or template.docx is wrong     (CLI exit 2)
    |   +-- TemplateNotFound          no template with that id or path
    |   +-- ManifestError             docgen.toml invalid (file, key, line)
    |   +-- TemplateSyntaxError       Jinja syntax error in the .docx (part, paragraph, text)
    |   +-- MissingValues             tags / fields / columns with no value (names + closest match)
    +-- DataError                     input data unreadable or unusable (file, row, column)
    +-- ModelError                    local model problems
    |   +-- ModelNotFound             no GGUF file where one was expected
    |   +-- ModelLoadError            the file exists but llama.cpp cannot load it
    |   +-- ContextOverflow           prompt + max_tokens cannot fit the context window
    |   +-- DownloadError             a model download failed (network, disk space, hash mismatch)
    |   +-- ServerError               an inference server cannot be reached or refused a request
    +-- RenderError                   writing the .docx failed (incl. unwritable output folder)
    +-- PolicyError                   machine policy is malformed or forbids the request
    +-- Cancelled                     the user cancelled (CLI exit 130)
"""

from __future__ import annotations

from collections.abc import Sequence


class DocgenError(Exception):
    """Base of every error docgen raises on purpose. ``str(err)`` is a complete user-facing message."""


class TemplateError(DocgenError):
    """The template package (manifest or template.docx) cannot be used as it is."""


class TemplateNotFound(TemplateError):
    """No template matches the id or path the user gave."""


class ManifestError(TemplateError):
    """docgen.toml is invalid. The message names the file, the key and, where known, the line."""

    def __init__(self, path: object, message: str, *, key: str | None = None, line: int | None = None):
        self.path, self.key, self.line = path, key, line
        where = f"{path}"
        if line is not None:
            where += f", line {line}"
        if key:
            where += f", key '{key}'"
        super().__init__(f"{where}: {message}")


class TemplateSyntaxError(TemplateError):
    """A Jinja tag in template.docx does not parse. Says which part (body, header, footer), which paragraph and
    shows the paragraph's text, never an XML offset."""


class MissingValues(TemplateError):
    """Values the template needs are absent: tags naming unknown values, required fields, required columns."""

    def __init__(self, message: str, names: Sequence[str] = ()):
        self.names = tuple(names)
        super().__init__(message)


class DataError(DocgenError):
    """Input data cannot be read or used. Names the file and, where known, the row and column."""

    def __init__(self, path: object, message: str, *, row: int | None = None, column: str | None = None):
        self.path, self.row, self.column = path, row, column
        where = f"{path}"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


class ModelError(DocgenError):
    """The local model cannot be found, loaded or asked."""


class ModelNotFound(ModelError):
    """No usable GGUF model file at the configured place."""


class ModelLoadError(ModelError):
    """A model file exists but llama.cpp cannot load it (not GGUF, truncated, unsupported architecture)."""


class ContextOverflow(ModelError):
    """The prompt plus the section's max_tokens cannot fit the model's context window, even after the data
    context was shortened by the rule in :mod:`docgen.llm.prompt`."""


class DownloadError(ModelError):
    """Downloading a model failed: the network or server is unreachable, the disk is full, or the file's sha256
    is not the one the catalogue or the server reports. Says whether a partial file was kept for resuming."""


class ServerError(ModelError):
    """An OpenAI-compatible inference server (``--backend openai``) cannot be reached, kept failing after the
    retries, or refused a request. Names the server (URL without credentials), what was asked and how to fix it."""


class RenderError(DocgenError):
    """Rendering or writing the .docx failed (including an output folder that cannot be written)."""


class PolicyError(DocgenError):
    """The machine policy file is malformed, or it forbids what was asked."""


class Cancelled(DocgenError):
    """The user cancelled the run (Ctrl+C, the GUI's Cancel button)."""

    def __init__(self, message: str = "Cancelled by the user."):
        super().__init__(message)
