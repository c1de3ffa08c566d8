"""``docgen doctor``: the report, and its exit code with and without a model, an office suite, a valid policy and
writable user folders. No model is ever loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docgen import cli, doctor, paths
from docgen.llm import discovery
from docgen.render import pdf
from tiny_gguf import CHATML, write_tiny_llama


@pytest.fixture
def no_embedded_model(monkeypatch):
    monkeypatch.setattr(discovery, "embedded_model", lambda: None)


@pytest.fixture
def site_model(no_embedded_model) -> Path:
    model = paths.site_models_dir() / "it-approved.gguf"
    model.parent.mkdir(parents=True)
    return write_tiny_llama(model, chat_template=CHATML)


def mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


@pytest.fixture
def no_office(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(pdf, "known_office_paths", lambda: [])


@pytest.fixture
def fake_office(monkeypatch, tmp_path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    soffice = bin_dir / "soffice"
    soffice.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    soffice.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(pdf, "known_office_paths", lambda: [])
    return soffice


def run(capsys) -> tuple[int, str]:
    code = cli.main(["doctor"])
    return code, capsys.readouterr().out


def test_with_model_and_office_suite(capsys, site_model, fake_office):
    code, out = run(capsys)
    assert code == 0, out
    assert f"{site_model} ({mb(site_model)}, models folder)" in out
    assert f"{fake_office} (PDF export available)" in out
    for folder in (paths.user_config_dir(), paths.user_data_dir(), paths.user_cache_dir(), paths.user_log_dir(),
                   paths.site_config_dir(), paths.bundled_templates_dir()):
        assert str(folder) in out
    assert "0.1" in out.splitlines()[0] and "policy:" in out and "none" in out
    assert "docgen can work on this machine" in out


def test_without_model_fails(capsys, no_embedded_model, fake_office):
    code, out = run(capsys)
    assert code == 1
    assert "X model:" in out and "No model found" in out
    assert "cannot work on this machine: model" in out


def test_without_office_suite_warns_but_works(capsys, site_model, no_office):
    code, out = run(capsys)
    assert code == 0, out
    assert "! Office suite:" in out and "PDF export is disabled" in out


def test_embedded_model_is_reported_with_its_size(capsys, fake_office, tmp_path, monkeypatch):
    model = write_tiny_llama(tmp_path / "SmolLM2-test.gguf", chat_template=CHATML)
    monkeypatch.setattr(discovery, "embedded_model", lambda: model)
    code, out = run(capsys)
    assert code == 0 and f"{model} ({mb(model)}, embedded default)" in out


def test_policy_in_force_is_listed(capsys, site_model, fake_office):
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True)
    policy.write_text(f'model_path = "{site_model.as_posix()}"\nallow_remote = false\nseed = 7\n', encoding="utf-8")
    code, out = run(capsys)
    assert code == 0, out
    assert f"{policy} locks:" in out and "seed=7" in out and "allow_remote=False" in out
    assert "remote servers off" in out and f"({mb(site_model)}, policy)" in out


def test_malformed_policy_fails(capsys, site_model, fake_office):
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True)
    policy.write_text("seed = 7\nthreads = many\n", encoding="utf-8")
    code, out = run(capsys)
    assert code == 1
    assert "X policy:" in out and f"{policy}, line 2" in out and "locked to its default" in out


def test_unwritable_user_folder_fails(capsys, site_model, fake_office, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("DOCGEN_HOME", str(blocker / "home"))  # cannot be created under a file, even as root
    code, out = run(capsys)
    assert code == 1 and "NOT WRITABLE" in out


def test_cpu_features():
    cpuinfo = "processor\t: 0\nflags\t\t: fpu sse2 avx fma f16c\n"
    features = doctor._flags_from_cpuinfo(cpuinfo)
    assert features == {"avx": True, "avx2": False, "fma": True, "f16c": True}
    check = doctor.check_cpu(features, machine="x86_64")
    assert check.status == doctor.WARN and "no AVX2" in check.detail and "avx2 (missing)" in check.detail
    full = doctor.check_cpu({f: True for f in doctor.X86_FEATURES}, machine="x86_64")
    assert full.status == doctor.OK and "missing" not in full.detail
    assert doctor.check_cpu({}, machine="aarch64").status == doctor.OK
    assert doctor.check_cpu(None, machine="x86_64").status in (doctor.OK, doctor.WARN, doctor.INFO)


def test_office_found_in_a_known_install_path(tmp_path, monkeypatch):
    soffice = tmp_path / "libreoffice" / "program" / "soffice"
    soffice.parent.mkdir(parents=True)
    soffice.write_text("#!/bin/sh\n", encoding="utf-8")
    soffice.chmod(0o755)
    monkeypatch.setenv("PATH", os.fspath(tmp_path / "nothing"))
    monkeypatch.setattr(pdf, "known_office_paths", lambda: [tmp_path / "missing", soffice])
    assert pdf.find_soffice() == soffice
