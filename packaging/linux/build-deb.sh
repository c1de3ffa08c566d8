#!/usr/bin/env bash
# Package the frozen app (dist/docgen/) as a .deb with dpkg-deb only (no fpm).
#     bash packaging/linux/build-deb.sh DIST_APP_DIR VERSION OUT_DIR
# Layout: /opt/docgen/ (the app), /usr/bin/docgen -> /opt/docgen/docgen, /usr/share/applications/docgen.desktop,
# /usr/share/icons/hicolor/256x256/apps/docgen.png, /etc/xdg/docgen/ (site policy folder, empty),
# /usr/local/share/docgen/{models,templates}/ are IT's site folders (created by postinst, never removed).
# DEB_COMPRESS=xz|gzip|zstd|none (default xz: smallest; gzip is much faster to build).
set -euo pipefail
app=${1:?usage: build-deb.sh DIST_APP_DIR VERSION OUT_DIR}
version=${2:?version}
out=${3:?out dir}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
         "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/doc/docgen"
cp -a "$app" "$stage/opt/docgen"
ln -s /opt/docgen/docgen "$stage/usr/bin/docgen"
install -m 644 "$here/docgen.desktop" "$stage/usr/share/applications/docgen.desktop"
install -m 644 "$root/resources/docgen.png" "$stage/usr/share/icons/hicolor/256x256/apps/docgen.png"
install -m 644 "$root/packaging/README.md" "$stage/usr/share/doc/docgen/README.IT.md"
size_kb=$(du -sk "$stage" | cut -f1)

cat > "$stage/DEBIAN/control" <<CONTROL
Package: docgen
Version: $version
Architecture: $arch
Maintainer: docgen maintainers <docgen@localhost>
Installed-Size: $size_kb
Section: office
Priority: optional
Depends: libc6 (>= 2.31), libegl1, libgl1, libfontconfig1, libfreetype6, libxkbcommon0, libxkbcommon-x11-0, libdbus-1-3, libglib2.0-0, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xfixes0, libxcb-xinerama0, libxcb-xkb1
Recommends: libreoffice-writer
Description: Word documents from your data, written offline by a local model
 docgen fills Word templates with data (CSV, Excel, JSON) and lets a local
 GGUF model, run by llama.cpp on the CPU, write the narrative sections.
 Desktop app, batch command line (docgen --template ... --data ... --out ...)
 and a machine policy for IT (/etc/xdg/docgen/policy.toml). Run
 'docgen doctor' to check an installation.
CONTROL

cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
# IT's site folders (policy, models, templates); kept on upgrade and removal.
mkdir -p /etc/xdg/docgen /usr/local/share/docgen/models /usr/local/share/docgen/templates
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true; fi
exit 0
POSTINST
cat > "$stage/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
# policy.toml, site models and templates, and every user's settings are left in place on purpose.
exit 0
POSTRM
chmod 755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/docgen_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$stage" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1))"
