"""Models on this machine: what a GGUF file is (read from its header, never loading the weights), the models
folders as a library (list, add, remove, use), estimates of RAM and speed, the last evaluation of each model,
the curated catalogue of instruct models and verified downloads.

Below :mod:`docgen.pipeline` and beside :mod:`docgen.llm`; no heavy imports at import time (``gguf`` and numpy
load only when a quantization name or the memory bandwidth is asked for).
"""

from docgen.models.gguf_info import ArrayInfo, GGUFError, ModelInfo, base_model_warning, read_gguf

__all__ = ["ArrayInfo", "GGUFError", "ModelInfo", "base_model_warning", "read_gguf"]
