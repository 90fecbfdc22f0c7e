; Setup of the Enforcement Evidence Kit (环境执法取证工作站) for the kit laptop: one file IT staff run.
; It packs the PyInstaller folder built by `make bundle` (kit-app.spec):
;     makensis -DBUNDLE=dist\kit-app -DVERSION=0.1.0 installer.nsi
; Per-machine, in Program Files; Start-menu and desktop shortcuts; refuses to run while the application
; is open; installing over an older version upgrades it in place (the database migrations run at the
; next start). The uninstaller removes the program only: the evidence store and the database live in
; the data directory outside the install folder and are never deleted; the settings go only when the
; officer ticks that choice, after a warning.

Unicode true
!ifdef FAST
  SetCompress off  ; CI: the script and its file list are what is checked, quickly
!else
  SetCompressor /SOLID lzma
!endif
RequestExecutionLevel admin

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef BUNDLE
  !define BUNDLE "dist\kit-app"
!endif
!ifndef OUTFILE
  !define OUTFILE "EnforcementEvidenceKit-${VERSION}-setup.exe"
!endif
!define APPNAME "EnforcementEvidenceKit"
!define EXE "kit-app.exe"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPNAME}"
!define SETTINGS "$APPDATA\${APPNAME}\settings"

Name "$(ProductName)"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APPNAME}"
InstallDirRegKey HKLM "Software\${APPNAME}" "InstallDir"
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=2052 "ProductName" "环境执法取证工作站"
VIAddVersionKey /LANG=2052 "FileDescription" "环境执法取证工作站 安装程序"
VIAddVersionKey /LANG=2052 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "LegalCopyright" "Enforcement Evidence Kit"

!include "MUI2.nsh"
!include "LogicLib.nsh"

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString ProductName 2052 "环境执法取证工作站"
LangString ProductName 1033 "Enforcement Evidence Kit"
LangString Running 2052 "环境执法取证工作站正在运行。请先退出程序（保存正在进行的工作），再继续安装或卸载。"
LangString Running 1033 "The Enforcement Evidence Kit is running. Quit it first (saving any work in progress), then install or uninstall again."
LangString Shortcut 2052 "环境执法取证工作站"
LangString Shortcut 1033 "Enforcement Evidence Kit"
LangString SelfTest 2052 "安装自检"
LangString SelfTest 1033 "Installation self-test"
LangString KeepData 2052 "卸载只删除程序。证据原件、保管链和数据库保存在程序目录之外的数据目录中，不会被删除。"
LangString KeepData 1033 "Uninstalling removes the program only. The evidence originals, their custody and the database are kept in the data directory outside the program folder and are never deleted."
LangString SettingsName 2052 "同时删除界面设置（语言、窗口、设备显示）"
LangString SettingsName 1033 "Also remove the interface settings (language, windows, device views)"
LangString SettingsWarn 2052 "将删除本机的界面设置。证据和数据库不受影响。确定删除吗？"
LangString SettingsWarn 1033 "The interface settings of this computer will be removed. Evidence and the database are not affected. Remove them?"

Function .onInit
  SetShellVarContext all
  !insertmacro MUI_LANGDLL_DISPLAY
  Call RefuseWhileRunning
FunctionEnd

Function un.onInit
  SetShellVarContext all
  Call un.RefuseWhileRunning
FunctionEnd

!macro RefuseWhileRunningBody
  nsExec::ExecToStack 'cmd /c tasklist /FI "IMAGENAME eq ${EXE}" /NH | find /I "${EXE}"'
  Pop $0
  ${If} $0 == 0
    MessageBox MB_OK|MB_ICONSTOP "$(Running)"
    Abort
  ${EndIf}
!macroend
Function RefuseWhileRunning
  !insertmacro RefuseWhileRunningBody
FunctionEnd
Function un.RefuseWhileRunning
  !insertmacro RefuseWhileRunningBody
FunctionEnd

Section "Program" SecProgram
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; an upgrade replaces the program folder; the data directory is elsewhere and untouched
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "Software\${APPNAME}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "Software\${APPNAME}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "$(ProductName)"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "Enforcement Evidence Kit"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  CreateDirectory "$SMPROGRAMS\$(Shortcut)"
  CreateShortcut "$SMPROGRAMS\$(Shortcut)\$(Shortcut).lnk" "$INSTDIR\${EXE}"
  CreateShortcut "$SMPROGRAMS\$(Shortcut)\$(SelfTest).lnk" "$SYSDIR\cmd.exe" '/k ""$INSTDIR\kit-app-cli.exe" --self-test"'
  CreateShortcut "$DESKTOP\$(Shortcut).lnk" "$INSTDIR\${EXE}"
SectionEnd

Section "un.Program" UnSecProgram
  SectionIn RO
  DetailPrint "$(KeepData)"
  Delete "$DESKTOP\$(Shortcut).lnk"
  RMDir /r "$SMPROGRAMS\$(Shortcut)"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\kit-app-cli.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTKEY}"
  DeleteRegKey HKLM "Software\${APPNAME}"
SectionEnd

Section /o "un.$(SettingsName)" UnSecSettings
  MessageBox MB_YESNO|MB_ICONEXCLAMATION "$(SettingsWarn)" IDYES remove
  Goto done
  remove:
    SetShellVarContext current
    RMDir /r "${SETTINGS}"
    SetShellVarContext all
  done:
SectionEnd
