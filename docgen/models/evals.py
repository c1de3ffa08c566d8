"""The last ``docgen eval`` result per model on this machine, kept so the model list and the Models dialog can
show it next to each model and so speed estimates start from measurements (:mod:`docgen.models.estimate`).

Stored as ``evaluations.json`` in the user data folder: ``{"version": 1, "models": {"<file name>:<bytes>":
record}}``, written atomically. A model is identified by file name and size (hashing a 5 GB file for a list
would take seconds); the record keeps the sha256 the evaluation computed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docgen import paths
from docgen.files import atomic_write_text

log = logging.getLogger(__name__)
STORE_VERSION = 1


@dataclass(frozen=True)
class EvalRecord:
    """One model's evaluation: ``metrics`` maps a column of the ``docgen eval`` table (see
    :data:`docgen.evaluation.COLUMNS`) to its value; ``when`` is an ISO 8601 local time; ``templates`` the
    template ids it ran."""

    model: str
    size: int
    sha256: str
    when: str
    templates: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``<file name>:<bytes>``."""
        return f"{self.model}:{self.size}"


def store_path() -> Path:
    """``evaluations.json`` in the user data folder."""
    return paths.user_data_dir() / "evaluations.json"


def load_evaluations() -> dict[str, EvalRecord]:
    """Every stored record by key; {} when there is none or the file is unreadable (logged, never raised)."""
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
        models = data.get("models", {}) if isinstance(data, dict) else {}
        return {key: EvalRecord(model=r["model"], size=int(r["size"]), sha256=r.get("sha256", ""), when=r["when"],
                                templates=tuple(r.get("templates", ())), metrics=dict(r.get("metrics", {})))
                for key, r in models.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("Ignoring unreadable %s: %s", store_path(), exc)
        return {}


def record_evaluation(record: EvalRecord) -> Path:
    """Store ``record`` (replacing that model's previous one). Returns the store's path; raises DocgenError
    when the user data folder cannot be written."""
    records = load_evaluations()
    records[record.key] = record
    body = {"version": STORE_VERSION,
            "models": {k: {**asdict(r), "templates": list(r.templates)} for k, r in sorted(records.items())}}
    return atomic_write_text(store_path(), json.dumps(body, indent=2, ensure_ascii=False), label="user data folder")


def last_evaluation(name: str, size: int) -> EvalRecord | None:
    """The stored record of the model file ``name`` of ``size`` bytes, or None."""
    return load_evaluations().get(f"{name}:{size}")


def measurements() -> list[tuple[str, int, float]]:
    """(file name, bytes, generation tokens/s) of every evaluated model, for speed estimates."""
    out = []
    for r in load_evaluations().values():
        tps = r.metrics.get("gen_tps")
        if isinstance(tps, (int, float)) and tps > 0:
            out.append((r.model, r.size, float(tps)))
    return out


__all__ = ["EvalRecord", "last_evaluation", "load_evaluations", "measurements", "record_evaluation", "store_path"]
