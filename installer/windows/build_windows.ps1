# Build SpindleScope for Windows (run on a 64-bit Windows machine):
#   dist\SpindleScope\                       the PyInstaller one-folder bundle
#   dist\SpindleScope-<version>-setup.exe    the NSIS installer
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build_windows.ps1
#
# Needs the app's Python environment (pip install -e .), PyInstaller
# (pip install pyinstaller) and NSIS 3 (choco install nsis, or makensis on PATH).
# -SkipSmoke skips running the frozen app afterwards.
param(
    [string]$Python = "python",
    [switch]$SkipSmoke
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root
$Start = Get-Date

$Version = (& $Python -c "import core; print(core.__version__)").Trim()
if ($LASTEXITCODE -ne 0 -or -not $Version) { throw "cannot read core.__version__" }
Write-Host "== SpindleScope $Version : PyInstaller bundle"

if (-not (Test-Path "resources\icons\spindlescope.ico")) { & $Python installer\make_icon.py }
& $Python -m PyInstaller --noconfirm --clean --log-level WARN `
    --distpath dist --workpath build installer\spindlescope.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
$Bundle = Join-Path $Root "dist\SpindleScope"
if (-not (Test-Path "$Bundle\spindlescope.exe")) { throw "no bundle at $Bundle" }
$BundleTime = (Get-Date) - $Start

if (-not $SkipSmoke) {
    Write-Host "== smoke test of the frozen app"
    $out = & "$Bundle\spindlescope-cli.exe" --version
    if ($LASTEXITCODE -ne 0 -or $out -notmatch [regex]::Escape($Version)) {
        throw "frozen --version failed: $out"
    }
    $png = Join-Path $env:TEMP "spindlescope-smoke.png"
    & "$Bundle\spindlescope-cli.exe" --demo --screenshot $png
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path $png)) { throw "frozen --demo --screenshot failed" }
    Write-Host "screenshot: $png ($((Get-Item $png).Length) bytes)"
}

Write-Host "== NSIS installer"
$makensis = (Get-Command makensis -ErrorAction SilentlyContinue).Source
if (-not $makensis) {
    foreach ($p in @("${env:ProgramFiles(x86)}\NSIS\makensis.exe", "$env:ProgramFiles\NSIS\makensis.exe")) {
        if (Test-Path $p) { $makensis = $p; break }
    }
}
if (-not $makensis) { throw "makensis not found: install NSIS 3 (choco install nsis)" }
$Setup = Join-Path $Root "dist\SpindleScope-$Version-setup.exe"
& $makensis /V2 "/DVERSION=$Version" "/DPAYLOAD=$Bundle" "/DOUTFILE=$Setup" `
    installer\windows\spindlescope.nsi
if ($LASTEXITCODE -ne 0) { throw "makensis failed" }

$Size = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum
Write-Host "== done: SpindleScope $Version"
Write-Host ("bundle:     {0} ({1:N0} MB)" -f $Bundle, ($Size / 1MB))
Write-Host ("installer:  {0} ({1:N0} MB)" -f $Setup, ((Get-Item $Setup).Length / 1MB))
Write-Host ("build time: {0:N0} s bundle, {1:N0} s total" -f $BundleTime.TotalSeconds, ((Get-Date) - $Start).TotalSeconds)
