"""What a GGUF model file is, read from its header without loading the weights.

GGUF (the llama.cpp file format, spec: ggml's ``docs/gguf.md``) starts with a header: magic ``GGUF``, a version,
the tensor count, the metadata key/value count, the key/value pairs, then one record per tensor (name, shape,
type, offset). :func:`read_gguf` reads that header and nothing after it.

The value types, key names and quantization names are the ``gguf`` package's (``gguf.GGUFValueType``,
``gguf.Keys``, ``gguf.LlamaFileType``, ``gguf.GGMLQuantizationType``), so they follow llama.cpp. Parsing is our
own short loop over :mod:`struct` because ``gguf.GGUFReader`` builds a numpy view per element of every array:
it took 3.3 s on the embedded model and 12.7 s on Gemma 3 270M (262,144 vocabulary strings) on a 2-core PC,
too slow for a model list; this reader skips the contents of long arrays and reads both headers in well under
a second. ``tests/test_models_gguf.py`` checks that both readers agree.
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.errors import ModelLoadError, ModelNotFound

GGUF_MAGIC = b"GGUF"
#: Header versions llama.cpp reads today (v1 used 32-bit lengths and has not been written since 2023).
SUPPORTED_VERSIONS = (2, 3)
#: Arrays longer than this are not kept (vocabularies, merges, scores): only their length is.
MAX_KEPT_ARRAY = 64
#: A header claiming more than this many key/value pairs or tensors is not a model file (largest seen: ~40
#: pairs and ~1,000 tensors for 70B models; the bound is generous).
MAX_ENTRIES = 1_000_000

# GGUF value types (gguf.GGUFValueType): struct format of the fixed-size ones.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class GGUFError(ModelLoadError):
    """The file is not a GGUF model file docgen can read (wrong magic, unknown version, truncated header)."""


@dataclass(frozen=True)
class ArrayInfo:
    """A metadata array too long to keep: its element type (a ``gguf.GGUFValueType`` number) and length."""

    item_type: int
    length: int


@dataclass(frozen=True)
class ModelInfo:
    """What a GGUF file says about its model.

    ``size``: bytes on disk. ``parameters``: total elements of all tensors (the model's parameter count).
    ``quantization``: llama.cpp's file type name (``Q4_K_M``, ``Q4_1``, ``F16``), or the most common tensor type
    by bytes when the file does not say. ``context_length``: the context the model was trained for, in tokens
    (None when absent). ``chat_template``: the Jinja chat template (``tokenizer.chat_template``), or None: no
    template means a base model, or an instruct model converted without one. ``metadata``: every key/value
    pair (long arrays as :class:`ArrayInfo`).
    """

    path: Path
    size: int
    version: int
    architecture: str
    name: str
    parameters: int
    quantization: str
    context_length: int | None
    chat_template: str | None
    license: str
    metadata: Mapping[str, Any] = field(repr=False)
    tensor_count: int = 0

    @property
    def has_chat_template(self) -> bool:
        """True when the file carries a (non-empty) chat template."""
        return bool(self.chat_template and self.chat_template.strip())

    def arch(self, key: str, default: Any = None) -> Any:
        """An architecture-scoped value: ``arch("block_count")`` reads ``<architecture>.block_count``."""
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def layers(self) -> int:
        """Transformer blocks (``<arch>.block_count``), 0 when absent."""
        return int(self.arch("block_count", 0) or 0)

    @property
    def vocab_size(self) -> int:
        """Tokens in the vocabulary (length of ``tokenizer.ggml.tokens``), 0 when absent."""
        tokens = self.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, ArrayInfo):
            return tokens.length
        return len(tokens) if isinstance(tokens, list) else int(self.arch("vocab_size", 0) or 0)

    def kv_bytes_per_token(self) -> int:
        """Bytes of llama.cpp's KV cache per token of context: layers x KV heads x (key + value length) x 2
        bytes (the cache is F16 by default). Key/value lengths default to embedding length / heads, as in
        llama.cpp's loader. 0 when the metadata lacks the sizes."""
        heads = _first_int(self.arch("attention.head_count"))
        kv_heads = _first_int(self.arch("attention.head_count_kv")) or heads
        embd = int(self.arch("embedding_length", 0) or 0)
        if not heads or not embd or not self.layers:
            return 0
        key = int(self.arch("attention.key_length", 0) or embd // heads)
        value = int(self.arch("attention.value_length", 0) or embd // heads)
        return self.layers * kv_heads * (key + value) * 2


def _first_int(value: Any) -> int:
    """Head counts may be per-layer arrays (some architectures): take the largest."""
    if isinstance(value, list):
        return int(max(value)) if value else 0
    return int(value or 0)


class _Cursor:
    """Little/big-endian reads over a memory map, with bounds checks that name the offset."""

    def __init__(self, data: mmap.mmap | bytes, path: Path, order: str = "<") -> None:
        self.data, self.path, self.order, self.pos = data, path, order, 0

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise GGUFError(f"{self.path} is truncated or damaged: its GGUF header claims data beyond the end of the "
                            f"file (offset {self.pos}, {len(self.data)} bytes). Download the model again.")

    def scalar(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self.need(size)
        (value,) = struct.unpack_from(self.order + fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.scalar("Q")
        self.need(length)
        raw = bytes(self.data[self.pos:self.pos + length])
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.scalar("Q")
        self.need(length)
        self.pos += length

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type, length = self.scalar("I"), self.scalar("Q")
            if length <= MAX_KEPT_ARRAY:
                return [self.value(item_type) for _ in range(length)]
            if item_type in _SCALARS:
                size = struct.calcsize(_SCALARS[item_type]) * length
                self.need(size)
                self.pos += size
            elif item_type == _STRING:
                for _ in range(length):
                    self.skip_string()
            else:
                for _ in range(length):
                    self.value(item_type)
            return ArrayInfo(item_type, length)
        raise GGUFError(f"{self.path}: unknown GGUF value type {vtype} at offset {self.pos}; the file is damaged "
                        "or newer than this docgen.")


def read_gguf(path: str | Path) -> ModelInfo:
    """Read the header of the GGUF file at ``path`` (never the weights).

    Raises ModelNotFound when the file does not exist, GGUFError (a ModelLoadError) when it is not a GGUF file,
    has an unsupported version, or its header is truncated; each message names the file and what to do.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelNotFound(f"Model file {path} does not exist.")
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            if size < 24:
                raise GGUFError(f"{path} is not a GGUF model file (only {size} bytes).")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse(data, path, size)
    except OSError as exc:
        raise GGUFError(f"Cannot read model file {path}: {exc.strerror or exc}.") from exc


def _parse(data: mmap.mmap, path: Path, size: int) -> ModelInfo:
    magic = bytes(data[:4])
    if magic != GGUF_MAGIC:
        raise GGUFError(f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'). docgen runs "
                        "GGUF models for llama.cpp; download the model as GGUF (e.g. a Q4_K_M file).")
    cur = _Cursor(data, path)
    cur.pos = 4
    version = cur.scalar("I")
    if version & 0xFFFF == 0:  # written on a big-endian machine (gguf's own test)
        cur.order, cur.pos = ">", 4
        version = cur.scalar("I")
    if version not in SUPPORTED_VERSIONS:
        raise GGUFError(f"{path} is GGUF version {version}; docgen reads versions "
                        f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Download a current conversion of the model.")
    tensor_count, kv_count = cur.scalar("Q"), cur.scalar("Q")
    if tensor_count > MAX_ENTRIES or kv_count > MAX_ENTRIES:
        raise GGUFError(f"{path}: its GGUF header claims {tensor_count} tensors and {kv_count} metadata entries; "
                        "the file is damaged.")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = cur.string()
        metadata[key] = cur.value(cur.scalar("I"))
    parameters = 0
    by_type: Counter[int] = Counter()
    for _ in range(tensor_count):
        cur.skip_string()
        dims = cur.scalar("I")
        if dims > 8:
            raise GGUFError(f"{path}: a tensor with {dims} dimensions at offset {cur.pos}; the file is damaged.")
        elements = 1
        for _ in range(dims):
            elements *= cur.scalar("Q")
        ttype = cur.scalar("I")
        cur.scalar("Q")  # data offset
        parameters += elements
        by_type[ttype] += elements
    arch = str(metadata.get("general.architecture", "") or "unknown")
    template = metadata.get("tokenizer.chat_template")
    context = metadata.get(f"{arch}.context_length")
    return ModelInfo(
        path=path, size=size, version=version, architecture=arch,
        name=str(metadata.get("general.name") or path.stem), parameters=parameters,
        quantization=quantization_name(metadata.get("general.file_type"), by_type),
        context_length=int(context) if isinstance(context, int) else None,
        chat_template=template if isinstance(template, str) else None,
        license=str(metadata.get("general.license") or ""), metadata=metadata, tensor_count=tensor_count)


def quantization_name(file_type: Any, tensor_types: Mapping[int, int] | None = None) -> str:
    """llama.cpp's name of a GGUF ``general.file_type`` (``15`` -> ``Q4_K_M``), from ``gguf.LlamaFileType``.

    Without a file type, the tensor type holding the most elements (``gguf.GGMLQuantizationType``) names it,
    followed by ``?``. ``unknown`` when neither is there.
    """
    import gguf

    if isinstance(file_type, int):
        try:
            return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_").removeprefix("ALL_")
        except ValueError:
            return f"type {file_type}"
    if tensor_types:
        common = max(tensor_types, key=lambda t: tensor_types[t])
        try:
            return f"{gguf.GGMLQuantizationType(common).name}?"
        except ValueError:
            return "unknown"
    return "unknown"


def base_model_warning(info: ModelInfo) -> str | None:
    """:func:`docgen.llm.discovery.base_model_warning` for a model file read by :func:`read_gguf`."""
    from docgen.llm.discovery import base_model_warning as warning

    return warning(info.metadata, info.path.name)


__all__ = ["ArrayInfo", "GGUFError", "ModelInfo", "base_model_warning", "quantization_name", "read_gguf"]
