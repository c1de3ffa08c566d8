"""Documents per minute through an OpenAI-compatible server for ``--jobs 1, 2, 4``, next to the in-process
llama.cpp backend, in the same run.

    python bench/server.py [--rows 8] [--repeats 3] [--base-url URL] [--model PATH]

Without ``--base-url`` it starts llama-cpp-python's server (``python -m llama_cpp.server``, the ``server``
extra) on a free loopback port with the same model as the in-process backend (default: the embedded
SmolLM2-135M), ``--n_threads 2``, and stops it at the end. With ``--base-url`` it measures that server instead
(for example ``llama-server -m M.gguf -np 4 -c 16384``, whose parallel slots are what ``--jobs`` is for).

Each repeat runs every variant once, interleaved (in-process, jobs 1, jobs 2, jobs 4, then again), on the
service-reply template with the first ``--rows`` tickets of its sample (repeated to fill), each into a fresh
folder; it prints min and median documents/minute. Figure: documents/minute per variant. Baseline: the
in-process backend in the same run. Target: the server at ``--jobs 1`` within 15 % of the in-process backend
(the HTTP path costs little); ``--jobs`` beyond 1 only helps a server with parallel slots (llama-server ``-np``,
vLLM, Ollama's ``OLLAMA_NUM_PARALLEL``), and llama-cpp-python's server answers one request at a time. The
machine's load average is printed before and after: other programs running change every figure.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # both sides alike: idle llama.cpp threads sleep

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docgen.batch import run_batch  # noqa: E402
from docgen.llm import open_generator  # noqa: E402
from docgen.llm.discovery import find_model  # noqa: E402
from docgen.pipeline import RunOptions  # noqa: E402
from docgen.sources import load_dataset  # noqa: E402
from docgen.templates.catalog import resolve  # noqa: E402

TARGET_OVERHEAD = 0.15


def tickets(rows: int, dest: Path) -> Path:
    template = resolve("service-reply")
    with template.sample_data.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    header, body = lines[0], lines[1:]
    out = [header] + [[f"{r[0]}-{i // len(body) + 1}", *r[1:]] for i, r in enumerate((body * rows)[:rows])]
    with dest.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(out)
    return dest


def one_run(generator, data: Path, out: Path, jobs: int) -> float:
    template = resolve("service-reply")
    start = time.perf_counter()
    report = run_batch(template, load_dataset(data), generator, out, options=RunOptions(seed=42), width=jobs)
    seconds = time.perf_counter() - start
    failed = len(report.failed)
    if failed:
        raise SystemExit(f"{failed} document(s) failed in {out}: {report.failed[0].error}")
    return 60 * len(report.documents) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--base-url", help="measure this server instead of starting llama-cpp-python's")
    parser.add_argument("--model", help="GGUF model (default: the embedded one)")
    args = parser.parse_args()
    model = find_model(args.model)
    print(f"model: {model.name}; load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    server = None
    if args.base_url:
        url = args.base_url
    else:
        from tests.openai_servers import start_llama_server

        server = start_llama_server()
        url = server.url
        print(f"server: python -m llama_cpp.server at {url} (n_threads 2, one request at a time)")
    local = open_generator("llamacpp", model_path=model, n_threads=2)
    remote = {j: open_generator("openai", base_url=url, concurrency=j) for j in (1, 2, 4)}
    results: dict[str, list[float]] = {"in-process": [], **{f"server --jobs {j}": [] for j in (1, 2, 4)}}
    try:
        with tempfile.TemporaryDirectory(prefix="docgen-bench-server-") as tmp:
            work = Path(tmp)
            data = tickets(args.rows, work / "tickets.csv")
            for r in range(args.repeats):
                results["in-process"].append(one_run(local, data, work / f"local-{r}", 1))
                for j in (1, 2, 4):
                    results[f"server --jobs {j}"].append(one_run(remote[j], data, work / f"jobs{j}-{r}", j))
                print(f"  repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in results.items()))
    finally:
        local.close()
        for g in remote.values():
            g.close()
        if server:
            server.stop()
    base = statistics.median(results["in-process"])
    print(f"\n{args.rows} service-reply letters per run, {args.repeats} repeats, documents/minute:")
    print(f"{'variant':<18} {'min':>7} {'median':>7}  vs in-process")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"{name:<18} {min(values):7.1f} {med:7.1f}  {med / base:5.2f}x")
    ratio = statistics.median(results["server --jobs 1"]) / base
    verdict = "PASS" if ratio >= 1 - TARGET_OVERHEAD else "FAIL"
    print(f"\ntarget: server --jobs 1 >= {1 - TARGET_OVERHEAD:.2f}x in-process (baseline {base:.1f} docs/min, "
          f"same run): {ratio:.2f}x {verdict}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
