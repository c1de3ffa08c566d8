"""``docgen models list|info|add|remove|use|catalogue|download``: the models docgen can use on this machine.

- ``list [--json]``: every model (user folder, IT's folder, the policy's or settings' file, the embedded
  default) with size, architecture, parameters, quantization, context length, chat template, licence, the RAM
  it needs at the configured context size, a speed estimate and the last ``docgen eval`` result;
- ``info NAME [--json]``: the same for one model, plus its metadata;
- ``add FILE [--move] [--use]``: copy a GGUF file into the user's models folder;
- ``remove NAME``: delete a model from the user's models folder;
- ``use NAME``: make it the model docgen uses (``model_path`` in settings.toml);
- ``download ID|URL [--sha256 HEX] [--use]``: download a catalogue model (or any GGUF address) into the user's
  models folder, resumable, verified by sha256, with progress; refused when the policy sets
  ``allow_downloads = false`` (:mod:`docgen.models.download`); Ctrl+C cancels and keeps the partial file;
- ``catalogue [--json]``: the curated instruct models (:mod:`docgen.models.catalogue`) with size, licence, what
  each is good for, the RAM docgen estimates it needs, whether it fits this PC, and the sources of the claims.

Exit codes: 0 done, 2 a usage, model or policy error (the message says what and how to fix it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from docgen.cli.common import EXIT_OK, EXIT_USAGE, error
from docgen.errors import DocgenError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="docgen models", description="List, add, remove and choose GGUF models.")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    lst = sub.add_parser("list", help="every model docgen can use here, with what it needs and how it did")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    info = sub.add_parser("info", help="one model in detail (its GGUF metadata)")
    info.add_argument("name", help="file name (or a unique part of it) or path")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    add = sub.add_parser("add", help="copy a GGUF file into your models folder")
    add.add_argument("file", help="a .gguf file")
    add.add_argument("--move", action="store_true", help="move the file instead of copying it")
    add.add_argument("--use", action="store_true", help="also make it the model docgen uses")
    rm = sub.add_parser("remove", help="delete a model from your models folder")
    rm.add_argument("name")
    use = sub.add_parser("use", help="make a model the one docgen uses")
    use.add_argument("name")
    cat = sub.add_parser("catalogue", aliases=["catalog"], help="instruct models docgen recommends, with sources")
    cat.add_argument("--json", action="store_true", help="machine-readable output")
    dl = sub.add_parser("download", help="download a catalogue model (or a GGUF address), verified by sha256")
    dl.add_argument("name", help="a catalogue id (see 'docgen models catalogue') or an https:// address of a .gguf")
    dl.add_argument("--sha256", default="", help="the file's published sha256 (for an address outside the catalogue "
                    "whose server does not report one)")
    dl.add_argument("--use", action="store_true", help="make it the model docgen uses once downloaded")
    return p


def models_command(argv: Sequence[str]) -> int:
    """Run ``docgen models ...``; returns the exit code."""
    args = _parser().parse_args(list(argv))
    from docgen.settings import load_settings

    try:
        settings = load_settings()
        return _ACTIONS[args.action](args, settings)
    except DocgenError as exc:
        error(exc)
        return EXIT_USAGE


def _row(entry: Any, settings: Any) -> dict[str, Any]:
    """What ``list`` shows of one entry (also the --json shape)."""
    from docgen.models import estimate, evals

    row: dict[str, Any] = {"name": entry.name, "path": str(entry.path), "source": entry.source,
                           "in_use": entry.in_use, "removable": entry.removable}
    info = entry.info
    if info is None:
        row["problem"] = entry.problem
        return row
    speed = estimate.speed_estimate(info, evals.measurements(), estimate.memory_bandwidth())
    last = evals.last_evaluation(entry.name, info.size)
    row.update({
        "model": info.name, "size_bytes": info.size, "architecture": info.architecture,
        "parameters": info.parameters, "quantization": info.quantization, "context_length": info.context_length,
        "chat_template": info.has_chat_template, "license": info.license,
        "ram_bytes": estimate.ram_bytes(info, settings.n_ctx), "n_ctx": settings.n_ctx,
        "tokens_per_second": round(speed.tokens_per_second, 2) if speed else None,
        "speed_basis": speed.how if speed else None,
        "speed": speed.describe() if speed else "not measured ('docgen eval --model NAME' measures it)",
        "last_eval": ({"when": last.when, **dict(last.metrics)} if last else None),
    })
    return row


def _list(args: argparse.Namespace, settings: Any) -> int:
    from docgen.models.estimate import human_bytes, human_parameters
    from docgen.models.library import list_models

    rows = [_row(e, settings) for e in list_models(settings)]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("No models. Add one with 'docgen models add FILE' (see 'docgen models catalogue').")
        return EXIT_OK
    for r in rows:
        mark = "*" if r["in_use"] else " "
        if "problem" in r:
            print(f"{mark} {r['name']}  [{r['source']}]  UNUSABLE: {r['problem']}")
            continue
        chat = "chat template" if r["chat_template"] else "NO CHAT TEMPLATE (base model?)"
        ctx = f"{r['context_length']:,} ctx" if r["context_length"] else "ctx unknown"
        print(f"{mark} {r['name']}  [{r['source']}]")
        print(f"    {r['model']}: {r['architecture']}, {human_parameters(r['parameters'])} parameters, "
              f"{r['quantization']}, {human_bytes(r['size_bytes'])}, {ctx}, {chat}, licence {r['license'] or '?'}")
        print(f"    needs about {human_bytes(r['ram_bytes'])} RAM at n_ctx {r['n_ctx']}; speed {r['speed']}")
        if r["last_eval"]:
            from docgen.evaluation import COLUMNS

            e = r["last_eval"]
            shown = [f"{COLUMNS[k][1].format(e[k])} {COLUMNS[k][0]}" for k in ("sec_per_doc", "problems_per_doc",
                                                                              "format_ok", "choice_acc")
                     if e.get(k) is not None]
            print(f"    last eval {e['when'][:16].replace('T', ' ')}: {', '.join(shown)}")
    print("\n* = in use. 'docgen models use NAME' switches; 'docgen eval --model NAME' measures a model here.")
    return EXIT_OK


def _info(args: argparse.Namespace, settings: Any) -> int:
    from docgen.models.gguf_info import ArrayInfo, base_model_warning
    from docgen.models.library import find_entry

    entry = find_entry(settings, args.name)
    row = _row(entry, settings)
    if entry.info is not None:
        meta = {k: (f"<array of {v.length}>" if isinstance(v, ArrayInfo) else v)
                for k, v in entry.info.metadata.items() if k != "tokenizer.chat_template"}
        row["metadata"] = meta
        row["chat_template_text"] = entry.info.chat_template
    if args.json:
        print(json.dumps(row, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    for key, value in row.items():
        if key in ("metadata", "chat_template_text"):
            continue
        print(f"{key + ':':<18} {value}")
    if entry.info is not None:
        warning = base_model_warning(entry.info)
        if warning:
            print(f"docgen: warning: {warning}", file=sys.stderr)
        print("metadata:")
        for key, value in row["metadata"].items():
            print(f"  {key} = {str(value)[:100]}")
    return EXIT_OK


def _add(args: argparse.Namespace, settings: Any) -> int:
    from docgen.models.gguf_info import base_model_warning, read_gguf
    from docgen.models.library import add_model, in_use, use_model

    target = add_model(args.file, move=args.move)
    print(f"Added {target.name} to {target.parent}.")
    warning = base_model_warning(read_gguf(target))
    if warning:
        print(f"docgen: warning: {warning}", file=sys.stderr)
    if args.use:
        use_model(settings, str(target))
        print(f"docgen now uses {target.name}.")
    else:
        current = in_use(settings)
        print(f"In use: {current.name if current else 'none'} ('docgen models use {target.name}' switches).")
    return EXIT_OK


def _remove(args: argparse.Namespace, settings: Any) -> int:
    from docgen.models.library import in_use, remove_model

    removed, settings = remove_model(settings, args.name)
    current = in_use(settings)
    print(f"Removed {removed}. In use now: {current.name if current else 'none'}.")
    return EXIT_OK


def _use(args: argparse.Namespace, settings: Any) -> int:
    from docgen.models.gguf_info import base_model_warning
    from docgen.models.library import use_model

    entry, _new = use_model(settings, args.name)
    print(f"docgen now uses {entry.name} ({entry.source}).")
    warning = base_model_warning(entry.info) if entry.info is not None else None
    if warning:
        print(f"docgen: warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _catalogue(args: argparse.Namespace, settings: Any) -> int:
    from docgen import paths
    from docgen.models.catalogue import load_catalogue
    from docgen.models.estimate import human_bytes, total_memory

    total = total_memory()
    rows = []
    for e in load_catalogue():
        ram = e.ram_bytes(settings.n_ctx)
        have = (paths.user_models_dir() / e.file).is_file() or (paths.site_models_dir() / e.file).is_file()
        rows.append({**{k: getattr(e, k) for k in e.__dataclass_fields__}, "ram_bytes": ram, "n_ctx": settings.n_ctx,
                     "fits": None if total is None else ram < 0.75 * total, "installed": have})
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    memory = f"this PC has {human_bytes(total)} RAM" if total else "this PC's RAM is unknown"
    print(f"Instruct models for docgen ({memory}; RAM is docgen's estimate at n_ctx {settings.n_ctx}):\n")
    for r in rows:
        flag = "installed" if r["installed"] else ("fits" if r["fits"] else "needs more RAM" if r["fits"] is False
                                                   else "")
        print(f"  {r['id']:<26} {r['parameters']:>5} {r['quantization']:<7} {human_bytes(r['size_bytes']):>9}  "
              f"RAM ~{human_bytes(r['ram_bytes'])}  {r['licence']}  {flag}")
        print(f"      {r['publisher']} (GGUF by {r['quantized_by']}): {r['good_for']}")
        print(f"      sources: {r['file_page']} ; {r['model_card']}")
    print("\nDownload one with 'docgen models download ID' (when your IT department's policy allows downloads).")
    return EXIT_OK


def _download(args: argparse.Namespace, settings: Any) -> int:
    import signal

    from docgen.cancel import CancelToken
    from docgen.errors import Cancelled
    from docgen.models.download import check_allowed, download_model
    from docgen.models.gguf_info import base_model_warning, read_gguf

    check_allowed(settings)  # before anything else: no connection when the policy says no
    if args.name.startswith(("https://", "http://")):
        url, name, sha, size = args.name, None, args.sha256, None
    else:
        from docgen.models.catalogue import find_catalogue_entry

        entry = find_catalogue_entry(args.name)
        url, name, sha, size = entry.url, entry.file, args.sha256 or entry.sha256, entry.size_bytes
        print(f"Downloading {entry.name} ({entry.file}, about {entry.size_bytes / 1e9:.2f} GB, licence "
              f"{entry.licence}: {entry.licence_url})")
    cancel = CancelToken()
    tty = sys.stderr.isatty()

    def progress(p: Any) -> None:
        if tty:
            print(f"\r  {p.describe()}   ", end="", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        target = download_model(url, settings, file_name=name, sha256=sha, size=size, on_progress=progress,
                                cancel=cancel)
    except Cancelled as exc:
        print(f"\ndocgen: {exc}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        if tty:
            print(file=sys.stderr)
    print(f"Downloaded and verified {target} (sha256 checked).")
    warning = base_model_warning(read_gguf(target))
    if warning:
        print(f"docgen: warning: {warning}", file=sys.stderr)
    if args.use:
        from docgen.models.library import use_model

        use_model(settings, str(target))
        print(f"docgen now uses {target.name}.")
    return EXIT_OK


_ACTIONS = {"list": _list, "info": _info, "add": _add, "remove": _remove, "use": _use, "catalogue": _catalogue,
            "catalog": _catalogue, "download": _download}
