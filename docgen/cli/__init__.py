"""The ``docgen`` command line: a thin shell over batch mode, the template tools and the desktop app.

Forms::

    docgen                                  open the desktop app (same as ``docgen gui``)
    docgen --template ID_OR_PATH --data FILE --out DIR [--set name=value ...] [--model PATH] [--seed N]
           [--backend llamacpp|openai|fake] [--base-url URL] [--model-name NAME] [--jobs N]
           [--shard K/N] [--force] [--sheet NAME] [--dry-run] [--strict-grounding] [--pdf]
    docgen templates list
    docgen templates check PATH
    docgen doctor                           check folders, policy, model, CPU and office suite (IT)
    docgen inspect FILE.docx [--json]       the provenance docgen wrote into a document (and its sidecar)
    docgen models list|info|add|remove|use|catalogue|download   the GGUF models on this machine
    docgen eval [--model NAME ...] [--template ID ...]          which model to trust: measured on your templates
    docgen refs list|add|rebuild|search     reference documents sections are written from and cite
    docgen report merge DIR... [-o FILE]                        one report from the shards of a batch (--shard K/N)
    docgen --version

Each subcommand lives in its own module (``<name>_command.py``) and is listed in :data:`SUBCOMMANDS`, which maps
the word after ``docgen`` to ``module:function``; the function takes the remaining arguments and returns the exit
code (:mod:`docgen.cli.common`). Anything else is batch mode. Modules are imported only when their word is used,
so ``docgen --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from docgen.cli.common import EXIT_CANCELLED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, guarded
from docgen.cpu import sleep_waiting_threads

#: word after ``docgen`` -> "module:function" (module relative to docgen.cli unless it starts with "docgen.")
SUBCOMMANDS: dict[str, str] = {
    "templates": "templates_command:templates_command",
    "doctor": "docgen.doctor:main",
    "gui": "gui_command:gui_command",
    "inspect": "inspect_command:inspect_command",
    "models": "models_command:models_command",
    "eval": "eval_command:eval_command",
    "refs": "refs_command:refs_command",
    "report": "report_command:report_command",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``docgen`` console script. Returns the exit code.

    No traceback ever reaches the terminal (:func:`docgen.cli.common.guarded`): a DocgenError is its message
    (exit 2), an OS error is named in plain words (exit 2), output cut short by its reader (``docgen inspect
    X.docx | head``) ends quietly (exit 141, as the shell reports a reader closing a pipe), and anything else is
    a one-line message with the details in docgen.log (exit 2; ``DOCGEN_DEBUG=1`` shows the traceback instead).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    sleep_waiting_threads()  # before llama.cpp loads: waiting OpenMP threads sleep (docgen.cpu)
    return guarded(lambda: _dispatch(argv))


def _dispatch(argv: list[str]) -> int:
    if not argv:
        from docgen.cli.gui_command import gui_command

        return gui_command([])
    target = SUBCOMMANDS.get(argv[0])
    if target is None:
        from docgen.cli.batch_command import run_batch_command

        return run_batch_command(argv)
    module, _, function = target.partition(":")
    if not module.startswith("docgen."):
        module = f"docgen.cli.{module}"
    return getattr(importlib.import_module(module), function)(argv[1:])


__all__ = ["main", "SUBCOMMANDS", "EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "EXIT_CANCELLED"]
