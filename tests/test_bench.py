"""``bench/run.py --quick`` (the README's benchmark, short): it runs to the end and prints every figure with
its target and a result column. Nothing about speed is asserted here: the speed targets are the bench's own
PASS/FAIL lines, read on a quiet machine (CONTRIBUTING: benchmarks, not timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_runs_and_prints_every_figure_with_target_and_result():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run as bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}  # as the CLI runs; CI's cores are shared with pytest
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout.split("\n\n")[-2 if "--quick:" in result.stdout else -1].splitlines()
    header = [c.strip() for c in table[0].split("|")]
    assert header == ["figure", "target", "baseline (min / median)", "measured (min / median) = ratio", "result"]
    rows = [[c.strip() for c in line.split("|")] for line in table[1:]]
    assert rows and all(len(r) == 5 and r[0] and r[1] for r in rows), table
    # every figure printed at least one row, and every row with a target has a verdict
    assert len(rows) >= len(bench.FIGURES)
    for r in rows:
        assert r[4] in {"PASS", "FAIL", "-", "keep physical", "switch"}, r
        assert r[4] == "-" or r[1] != "-", r
