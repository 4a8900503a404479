; NSIS script: SpindleScope-<version>-setup.exe from the PyInstaller bundle.
;
;   makensis /DVERSION=x.y.z /DPAYLOAD=..\..\dist\SpindleScope installer\windows\spindlescope.nsi
;
; VERSION (required) is core.__version__ (build_windows.ps1 passes it);
; PAYLOAD is the one-folder bundle (default ..\..\dist\SpindleScope, relative
; to this script); OUTFILE defaults to ..\..\dist\SpindleScope-<VERSION>-setup.exe.
; Installs per machine to Program Files\SpindleScope with a Start-menu
; shortcut, an uninstaller (Apps & features) and the session file type.
; Windows picks the type from the last extension, so sessions
; (*.spindlescope.json) get SpindleScope in "Open with" for .json files
; without taking .json over.

Unicode true
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "Pass the version: makensis /DVERSION=x.y.z spindlescope.nsi"
!endif
!ifndef PAYLOAD
  !define PAYLOAD "..\..\dist\SpindleScope"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\SpindleScope-${VERSION}-setup.exe"
!endif
!ifndef ICON
  !define ICON "..\..\resources\icons\spindlescope.ico"
!endif

!define APPNAME "SpindleScope"
!define EXE "spindlescope.exe"
!define PROGID "SpindleScope.Session"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPNAME}"

!include "MUI2.nsh"
!include "x64.nsh"

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APPNAME}"
InstallDirRegKey HKLM "Software\${APPNAME}" "InstallDir"
RequestExecutionLevel admin
BrandingText "${APPNAME} ${VERSION}"

; VIProductVersion needs four numbers: x.y.z -> x.y.z.0
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "LegalCopyright" "BSD-3-Clause"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APPNAME} needs 64-bit Windows."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "SpindleScope" SecMain
  SectionIn RO
  ; a previous version's files go first (the bundle's layout may change)
  RMDir /r "$INSTDIR\_internal"
  SetOutPath "$INSTDIR"
  File /r "${PAYLOAD}\*"
  File "/oname=spindlescope.ico" "${ICON}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Start menu
  SetShellVarContext all
  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\spindlescope.ico"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME} demo.lnk" "$INSTDIR\${EXE}" "--demo" "$INSTDIR\spindlescope.ico"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk" "$INSTDIR\uninstall.exe"

  ; session files: a ProgID, offered in "Open with" for .json
  WriteRegStr HKLM "Software\Classes\${PROGID}" "" "SpindleScope session"
  WriteRegStr HKLM "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\spindlescope.ico"
  WriteRegStr HKLM "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\${EXE}" "%1"'
  WriteRegStr HKLM "Software\Classes\.json\OpenWithProgids" "${PROGID}" ""
  WriteRegStr HKLM "Software\Classes\Applications\${EXE}\shell\open\command" "" '"$INSTDIR\${EXE}" "%1"'
  WriteRegStr HKLM "Software\Classes\Applications\${EXE}\SupportedTypes" ".json" ""
  WriteRegStr HKLM "Software\Classes\Applications\${EXE}" "FriendlyAppName" "${APPNAME}"

  ; Apps & features
  WriteRegStr HKLM "Software\${APPNAME}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "Software\${APPNAME}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "SpindleScope developers"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\spindlescope.ico"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  Delete "$SMPROGRAMS\${APPNAME}\*.lnk"
  RMDir "$SMPROGRAMS\${APPNAME}"
  DeleteRegKey HKLM "Software\Classes\${PROGID}"
  DeleteRegValue HKLM "Software\Classes\.json\OpenWithProgids" "${PROGID}"
  DeleteRegKey HKLM "Software\Classes\Applications\${EXE}"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "Software\${APPNAME}"
  ; the bundle only: user data (sessions, the template cache in
  ; %LOCALAPPDATA%\spindlescope) stays
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\spindlescope.exe"
  Delete "$INSTDIR\spindlescope-cli.exe"
  Delete "$INSTDIR\spindlescope.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd
