"""The claim check's precision and recall per kind of problem on the labelled set (tests/data/claims/,
bench/claims_accuracy.py): at least 300 labelled texts covering every kind, each type >= 0.95."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_precision_and_recall_per_type_on_the_labelled_set():
    spec = importlib.util.spec_from_file_location("claims_accuracy", ROOT / "bench" / "claims_accuracy.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    items = [json.loads(x) for x in bench.LABELLED.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(items) >= 300
    counts, errors = bench.score(items)
    for kind in ("misattributed", "entity or name", "derived", "echo", "commitment", "unsupported", "placeholder"):
        tp, predicted, labels = counts[kind]
        assert labels >= 5, kind
        assert tp / predicted >= 0.95 and tp / labels >= 0.95, (kind, counts[kind], errors)
