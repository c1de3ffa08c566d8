"""``docgen --template ID --data FILE --out DIR``: batch mode, one document per file or per row."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docgen.version import __version__
from docgen.cancel import CancelToken
from docgen.errors import DocgenError
from docgen.cli.progress import BatchProgress

from docgen.cli.common import EXIT_CANCELLED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE

log = logging.getLogger(__name__)


def _batch_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="docgen",
        description="Write Word documents from a template and a data file; a local model writes the narrative. "
        "Without arguments, opens the desktop app. Other commands: 'docgen templates list|check', 'docgen gui', "
        "'docgen doctor', 'docgen inspect FILE.docx', 'docgen models list|catalogue|download', 'docgen eval'.",
    )
    p.add_argument("--version", action="version", version=f"docgen {__version__}")
    p.add_argument("--template", "-t", required=True, help="template id (see 'docgen templates list') or folder")
    p.add_argument("--data", "-d", required=True, type=Path, help="input data: .csv, .tsv, .xlsx or .json")
    p.add_argument("--out", "-o", required=True, type=Path, help="output folder (created if missing)")
    p.add_argument("--set", dest="values", action="append", default=[], metavar="NAME=VALUE",
                   help="a template field value; repeat for several")
    p.add_argument("--map", dest="mapping", action="append", default=[], metavar="TEMPLATE_COLUMN=DATA_COLUMN",
                   help="read a column the template needs from a differently named data column (like Word's Match "
                   "Fields), e.g. --map comment=verified_reviews; repeat for several")
    p.add_argument("--sheet", help="worksheet name for .xlsx input (default: the first sheet)")
    p.add_argument("--model", help="GGUF model file (default: settings, models folders, then the embedded model)")
    p.add_argument("--seed", type=int, help="sampling seed (default from settings; same seed, same text)")
    p.add_argument("--backend", choices=("llamacpp", "openai", "fake"),
                   help="llamacpp (local model, default), openai (an OpenAI-compatible inference server: llama.cpp's "
                   "llama-server, vLLM, Ollama...) or fake (scripted demo)")
    p.add_argument("--base-url", metavar="URL",
                   help="the inference server for --backend openai, e.g. http://127.0.0.1:8080/v1 (default: server_url "
                   "in settings); the API key comes from settings or DOCGEN_SERVER_API_KEY, never the command line")
    p.add_argument("--model-name", metavar="NAME",
                   help="the model to ask the server for (default: server_model in settings, else the one it serves)")
    p.add_argument("--jobs", "-j", type=_positive, metavar="N",
                   help="documents (or rows) in flight at once: requests sent together to a server, or sequences the "
                   "local backend decodes together (default: jobs in settings; 0 there lets the backend choose)")
    # issue #8 named the flag --parallel before --jobs was chosen: kept working, left out of --help
    p.add_argument("--parallel", dest="jobs", type=_positive, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--shard", metavar="K/N",
                   help="be shard K of N (K from 1): take every Nth document of the work list, for a Slurm array, a "
                   "Kubernetes indexed job or GNU parallel; combine the reports with 'docgen report merge DIR...'")
    p.add_argument("--force", action="store_true",
                   help="make every document again, even those an earlier run already wrote from the same inputs")
    p.add_argument("--no-cache", action="store_true",
                   help="generate every section even when the section cache holds the model's reply to the same "
                   "prompt, model and seed (the replies are not stored either; setting: cache)")
    p.add_argument("--dry-run", action="store_true", help="check template, data and output names; write nothing")
    p.add_argument("--strict-grounding", action="store_true",
                   help="fail a document when the claim check marks any sentence (a figure not in the data, a "
                   "figure of the wrong entity, an invented name, an echo, a promise the template does not make)")
    p.add_argument("--candidates", type=int, metavar="K",
                   help="candidates drawn per written section; the one with the fewest marked sentences is kept "
                   "(default: the template's, else 3; 1 is fastest)")
    p.add_argument("--on-unsupported", choices=("mark", "drop", "fail"),
                   help="what to do with marked sentences: mark (Word comment, the default), drop (remove the "
                   "sentence, say so in the report) or fail (do not write the document); default: the "
                   "template's choice")
    p.add_argument("--strict-images", action="store_true",
                   help="fail a document when a picture its data names is missing or unreadable (default: write it "
                   "with a placeholder and a warning in the report)")
    p.add_argument("--pdf", action="store_true",
                   help="also save each document as PDF (needs LibreOffice or Microsoft Word installed)")
    p.add_argument("--refs", nargs="+", type=Path, default=[], metavar="PATH",
                   help="reference documents (files or folders: .docx .pdf .md .txt .html .csv .xlsx) the model "
                   "writes from and cites, besides the template's own; see 'docgen refs'")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress (a bar on a terminal, a line every few seconds elsewhere)")
    return p


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 256, got {text!r}")
    return value


def _parse_values(pairs: Sequence[str], parser: argparse.ArgumentParser, flag: str = "--set",
                  form: str = "NAME=VALUE") -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or (flag == "--map" and not value.strip()):
            parser.error(f"{flag} expects {form}, got '{pair}'")
        values[name.strip()] = value.strip() if flag == "--map" else value
    return values


def run_batch_command(argv: Sequence[str]) -> int:
    """``docgen --template ... --data ... --out ...``: returns the exit code."""
    from docgen.settings import load_settings, setup_logging

    parser = _batch_parser()
    args = parser.parse_args(argv)
    values = _parse_values(args.values, parser)
    mapping = _parse_values(args.mapping, parser, "--map", "TEMPLATE_COLUMN=DATA_COLUMN")
    if args.candidates is not None and not 1 <= args.candidates <= 8:
        parser.error(f"--candidates takes 1 to 8, got {args.candidates}")
    cancel = CancelToken()
    try:
        settings = load_settings()
        setup_logging(settings.log_level)
        settings = settings.with_overrides(model_path=args.model, seed=args.seed, backend=args.backend,
                                           server_url=args.base_url, server_model=args.model_name, jobs=args.jobs)
        settings.check_output_dir(args.out)  # PolicyError when the policy locks output_dir elsewhere
        from docgen.batch import run_batch
        from docgen.pipeline import RunOptions
        from docgen.sources import load_dataset, prepare_dataset
        from docgen.templates.catalog import resolve

        from docgen.journal import parse_shard

        shard = parse_shard(args.shard) if args.shard else None
        template = resolve(args.template)
        from docgen.checks import preflight

        preflight(template)
        unknown = sorted(set(values) - {f.name for f in template.fields})
        if unknown:
            import difflib

            names = [f.name for f in template.fields]
            hints = [f"'{u}'" + (f" (did you mean '{c[0]}'?)" if (c := difflib.get_close_matches(u, names, n=1)) else "")
                     for u in unknown]
            print(f"docgen: error: --set names no field of template '{template.id}': {', '.join(hints)}. "
                  f"Its fields: {', '.join(names) or 'none'}.", file=sys.stderr)
            return EXIT_USAGE
        missing_refs = [str(r) for r in args.refs if not r.exists()]
        if missing_refs:
            print(f"docgen: error: --refs: {', '.join(missing_refs)} does not exist. Give reference files or folders.",
                  file=sys.stderr)
            return EXIT_USAGE
        dataset = load_dataset(args.data, sheet=args.sheet, missing=template.missing_values)
        prepare_dataset(dataset, template_id=template.id, required=template.required_columns,
                        computed=template.computed, mapping=mapping)
        if not args.dry_run:
            from docgen.batch import check_output_dir

            check_output_dir(args.out)
        if args.pdf and not args.dry_run:
            from docgen.render import pdf_available

            reason = pdf_available()
            if reason:
                print(f"docgen: error: --pdf: {reason}", file=sys.stderr)
                return EXIT_USAGE
        from docgen.llm import open_configured

        from docgen.cache import from_settings

        generator = from_settings(open_configured(settings), settings, enabled=not args.no_cache)
    except DocgenError as exc:
        log.error("Batch run not started (%s): %s", " ".join(argv), exc)
        print(f"docgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    model_warnings = tuple(getattr(generator, "warnings", ()))
    for warning in model_warnings:  # e.g. a base model without a chat template: say so before any work
        print(f"docgen: warning: {warning}", file=sys.stderr)
    log.info("Batch run: template %s, data %s (%d rows), out %s, backend %s, model %s%s", template.id, args.data,
             len(dataset.rows), args.out, settings.backend, generator.name, ", dry run" if args.dry_run else "")

    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    progress = BatchProgress.for_terminal(args.quiet, dry_run=args.dry_run)
    try:
        options = RunOptions(seed=settings.seed, temperature=settings.temperature,
                             strict_grounding=args.strict_grounding, strict_images=args.strict_images,
                             references=tuple(r.resolve() for r in args.refs),
                             on_unsupported=args.on_unsupported or settings.on_unsupported,
                             candidates=max(0, args.candidates or 0))
        report = run_batch(template, dataset, generator, args.out, values=values, options=options,
                           on_event=progress, cancel=cancel, dry_run=args.dry_run, width=settings.jobs or getattr(generator, "suggested_jobs", 1),
                           shard=shard,
                           force=args.force)
    except DocgenError as exc:
        log.error("Batch run failed: %s", exc)
        print(f"docgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        signal.signal(signal.SIGINT, previous)
        generator.close()
    code = _finish(args, report, progress, generator, cancel, model_warnings)
    log.info("Batch run ended (exit %d): %d written, %d failed, %s in %.1f s", code,
             sum(1 for d in report.documents if d.ok), len(report.failed), args.out, report.seconds)
    for doc in report.failed:
        log.warning("Document not written: %s", doc.error)
    return code


def _finish(args: argparse.Namespace, report: Any, progress: BatchProgress, generator: Any, cancel: CancelToken,
            model_warnings: tuple[str, ...] = ()) -> int:
    """Print the outcome of a batch run (and export PDFs with ``--pdf``); returns the exit code."""
    pdf_failed = _export_pdfs(report, cancel) if args.pdf and not args.dry_run else 0
    from docgen.journal import report_name

    written = sum(1 for d in report.documents if d.ok and not d.skipped)
    skipped = sum(1 for d in report.documents if d.skipped)
    verb = "Would write" if args.dry_run else "Wrote"
    report_note = "" if args.dry_run or report.report_error else f" Report: {args.out / report_name(report.shard)}"
    part = f" (shard {report.shard.label}: {len(report.documents)} of {report.total})" if report.shard else ""
    print(f"{verb} {written} document(s) to {args.out}{part} in {report.seconds:.1f} s "
          f"(model: {generator.name}).{report_note}")
    if skipped:
        print(f"Skipped {skipped} document(s) an earlier run already wrote from the same template, data, model and "
              "settings (--force makes them again).")
    if report.stale_removed:
        print(f"docgen: note: removed {report.stale_removed} unfinished temp file(s) left in {args.out} by a run "
              "that was killed.", file=sys.stderr)
    if progress.mode != "bar" or args.dry_run:
        for doc in report.documents:
            if doc.ok and not doc.skipped:
                print(f"  {doc.path}")
    for note in report.notes:
        print(f"docgen: note: {note}", file=sys.stderr)
    if report.replaced:
        print(f"docgen: note: replaced {len(report.replaced)} document(s) left in {args.out} by an earlier run "
              f"(e.g. {report.replaced[0]}).", file=sys.stderr)
    if report.report_error:
        print(f"docgen: error: the report was not written: {report.report_error}", file=sys.stderr)
    print_marks(report, file=sys.stderr)
    print_cut(report, file=sys.stderr)
    if model_warnings and not args.dry_run:
        print(f"docgen: warning: written with {generator.name}, which has no chat template (a base model?): read "
              "every section before using these documents.", file=sys.stderr)
    not_shown = [w for d in report.documents for w in d.warnings]
    if not_shown:
        print(f"docgen: warning: {len(not_shown)} picture(s) could not be shown and have a placeholder, e.g. "
              f"{not_shown[0]} See 'warnings' in the report (--strict-images fails such documents).",
              file=sys.stderr)
    if report.cancelled:
        print("docgen: cancelled; documents finished before the cancel were kept.", file=sys.stderr)
        return EXIT_CANCELLED
    if report.failed:
        listed = progress.failed >= len(report.failed)  # each failure was printed as it happened
        print(f"docgen: {len(report.failed)} document(s) failed" + (" (listed above and in the report)." if listed
              else ":"), file=sys.stderr)
        if not listed:
            for doc in report.failed:
                print(f"  {doc.error}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_SOME_FAILED if pdf_failed or report.report_error else EXIT_OK


def _export_pdfs(report: Any, cancel: CancelToken) -> int:
    """``--pdf``: convert the written documents, record the outcome in the report; returns the failures."""
    from docgen.batch import export_pdfs, write_report

    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        pdfs = export_pdfs(report, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    write_report(report, pdfs)
    failed = [err for _pdf, err in pdfs.values() if err]
    print(f"Saved {len(pdfs) - len(failed)} PDF(s) beside the documents.")
    if failed:
        print(f"docgen: {len(failed)} PDF conversion(s) failed (the .docx files were kept):", file=sys.stderr)
        for err in failed:
            print(f"  {err}", file=sys.stderr)
    return len(failed)


_KIND_WORDS = {"unsupported": "figure(s) not found in the data", "misattributed": "figure(s) of the wrong entity",
               "derived": "computed figure(s) not in the data", "entity": "unknown value(s)",
               "name": "invented name(s)", "echo": "echo(es) of the prompt", "markup": "chat markup",
               "placeholder": "placeholder(s)", "commitment": "promise(s) the template does not make",
               "empty": "empty section(s)", "policy": "promise(s) no source supports",
               "uncited": "policy term(s) without their source", "citation": "citation(s) of the wrong source"}


def print_cut(report: Any, file: Any) -> None:
    """A warning naming the written sections the model stopped at ``max_tokens`` (they may end mid-sentence:
    the cleanup cut the unfinished sentence, so the section may also be shorter than asked), with the first
    few by document and section, and how to fix it. Prints nothing when there are none."""
    from docgen.evaluation import CUT_WARNING

    cut = [(d.path.name if d.path else f"document {d.index + 1}", s.id) for d in report.documents if d.ok
           for s in d.sections if any(CUT_WARNING in w for w in s.warnings)]
    if not cut:
        return
    shown = ", ".join(f"{name} section '{sid}'" for name, sid in cut[:3]) + (
        f" and {len(cut) - 3} more" if len(cut) > 3 else "")
    print(f"docgen: warning: the model stopped at max_tokens in {len(cut)} section(s), which may end early or "
          f"mid-sentence: {shown}. Read them, or raise max_tokens for the section in the template's docgen.toml.",
          file=file)


def print_marks(report: Any, file: Any) -> None:
    """The summary of the claim check: per written document with marks, how many and of which kinds, and
    where to look (the comments in the .docx, the report); the dropped sentences, if any."""
    from collections import Counter

    lines = []
    for d in report.documents:
        kinds = Counter(m.kind for s in d.sections for m in s.marks)
        dropped = sum(len(s.dropped) for s in d.sections)
        if not kinds and not dropped:
            continue
        name = d.path.name if d.path else f"document {d.index + 1}"
        parts = ", ".join(f"{n} {_KIND_WORDS.get(k, k)}" for k, n in kinds.most_common())
        note = f"{sum(kinds.values())} marked sentence(s) ({parts})" if kinds else ""
        if dropped:
            note += ("; " if note else "") + f"{dropped} sentence(s) removed"
        lines.append(f"  {name}: {note}")
    if lines:
        print(f"docgen: warning: the claim check marked {len(lines)} document(s); each marked sentence has a "
              "Word comment by 'docgen check' and is listed under 'marks' in the report (--strict-grounding "
              "fails such documents):", file=file)
        for line in lines:
            print(line, file=file)
