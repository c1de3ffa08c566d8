"""Precision and recall of the claim check per kind of problem, on the labelled set
tests/data/claims/labelled.jsonl (each item: a text, the context it was written for, and the problems a
reviewer marked in it as [kind, claim] pairs; an empty list means a true text).

Contexts: ``sales-report`` (the bundled template on its sample, the whole document), ``offer-letters``
(the bundled service-reply mail merge, its first record, in the form the labels were written for: what the
letter offers is an ``offer`` field, "a free replacement or a full refund", with no reference documents; see
:func:`offer_letters`) and ``sentiment-report`` (the sample's 60 comments,
each labelled from its human rating: >= 1.5 positive, <= -1.5 negative, else neutral). The check runs the
way the pipeline runs it (:class:`docgen.sections.checks.Checker`) as the template's markdown section.

A predicted mark matches a labelled problem when the kind matches (``entity`` and ``name`` count as one
type, "invented entity or name") and one claim contains the other (case-insensitive). Per type:
precision = matched predictions / predictions, recall = matched labels / labels.

    python bench/claims_accuracy.py [--show-errors]
"""

from __future__ import annotations

import argparse
import atexit
import collections
import json
import shutil
import tempfile
from pathlib import Path

from docgen.context import add_aggregates
from docgen.pipeline import DocumentJob, base_context
from docgen.llm.fake import FakeGenerator
from docgen.llm.prompt import build_document_prompts
from docgen.sections.checks import Checker, add_facts
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "claims" / "labelled.jsonl"
TYPE = {"entity": "entity or name", "name": "entity or name"}




def offer_letters(folder: Path) -> Path:
    """Write the ``offer-letters`` package into ``folder`` and return its path: the bundled service-reply
    template as a plain mail merge whose offer comes from a field (``offer`` = "a free replacement or a full
    refund") and whose system prompt says to promise nothing else, without ``references/`` and ``[references]``, so the commitment rule alone judges what a letter
    promises (with reference documents, their policy check does: :mod:`docgen.refs.evidence`)."""
    pkg = folder / "offer-letters"
    shutil.copytree(ROOT / "templates" / "service-reply", pkg, ignore=shutil.ignore_patterns("references"))
    manifest = (pkg / "docgen.toml").read_text(encoding="utf-8")
    manifest = manifest[:manifest.index("# The policy set in references/")]
    manifest = manifest.replace('id = "service-reply"', 'id = "offer-letters"')
    manifest = manifest.replace("say what our policy offers for it, citing the source,", "offer {{ offer }}")
    manifest = manifest.replace("Offer only what the company's policies in the sources allow, and quote their terms "
                                "exactly.", "Never promise anything other than what you are told the company offers.")
    manifest += ('\n[[fields]]\nname = "offer"\nlabel = "What we offer"\n'
                 'default = "a free replacement or a full refund"\n')
    (pkg / "docgen.toml").write_text(manifest, encoding="utf-8")
    return pkg


def checker_for(context_id: str):
    """(Checker, section spec) for a labelled context."""
    if context_id == "offer-letters":
        folder = tempfile.mkdtemp(prefix="docgen-claims-")  # kept until the process ends (the Checker reads it)
        atexit.register(shutil.rmtree, folder, True)
        template = resolve(str(offer_letters(Path(folder))))
    else:
        template = resolve(context_id)
    data = load_dataset(template.root / "sample.csv")
    job = DocumentJob(template, data, row_index=0 if template.mode == "rows" else None)
    context = base_context(job)
    if context_id == "sentiment-report":
        for r in context["rows"]:
            rating = float(r.get("human_rating") or 0)
            r["sentiment"] = "positive" if rating >= 1.5 else "negative" if rating <= -1.5 else "neutral"
    add_aggregates(job, context)
    sheet = add_facts(job, context)
    spec = next(s for s in template.sections if s.format == "markdown" and not s.per_row)
    prompts = build_document_prompts(template, [spec], context, FakeGenerator(n_ctx=1 << 20), record=job.record)
    return Checker(job, context, prompts, sheet), spec


def kind_type(kind: str) -> str:
    return TYPE.get(kind, kind)


def score(items, show_errors: bool = False):
    """Per type: (true positives, predictions, labels); and the errors as text lines."""
    checkers: dict[str, tuple] = {}
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    errors = []
    for item in items:
        if item["context"] not in checkers:
            checkers[item["context"]] = checker_for(item["context"])
        checker, spec = checkers[item["context"]]
        predicted = [(kind_type(m.kind), m.claim) for m in checker.marks(spec, item["text"])]
        expected = [(kind_type(k), c) for k, c in item["expect"]]
        used = [False] * len(predicted)
        for t, claim in expected:
            counts[t][2] += 1
            hit = next((i for i, (pt, pc) in enumerate(predicted) if not used[i] and pt == t
                        and (claim.lower() in pc.lower() or pc.lower() in claim.lower())), None)
            if hit is None:
                errors.append(f"MISSED {t} {claim!r}: {item['text']}")
            else:
                used[hit] = True
                counts[t][0] += 1
        for i, (t, claim) in enumerate(predicted):
            counts[t][1] += 1
            if not used[i]:
                errors.append(f"FALSE  {t} {claim!r}: {item['text']}")
    return counts, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    items = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts, errors = score(items)
    labels = sum(c[2] for c in counts.values())
    print(f"{len(items)} labelled texts, {labels} labelled problems, "
          f"{sum(1 for i in items if not i['expect'])} texts with none")
    print(f"{'type':<16} {'labels':>6} {'predicted':>9} {'matched':>7} {'precision':>9} {'recall':>6}")
    for t in sorted(counts):
        tp, pred, lab = counts[t]
        p = tp / pred if pred else 1.0
        r = tp / lab if lab else 1.0
        print(f"{t:<16} {lab:>6} {pred:>9} {tp:>7} {p:>9.3f} {r:>6.3f}")
    if args.show_errors:
        print("\n".join(errors))


if __name__ == "__main__":
    main()
