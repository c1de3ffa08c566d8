; Inno Setup 6 script for docgen (per-machine install). Built by packaging\build-windows.ps1:
;   ISCC.exe /DAppVersion=0.1.0 /DSourceDir=C:\src\docgen\dist\docgen /OC:\src\docgen\dist packaging\windows\docgen.iss
;
; Silent install (IT):
;   docgen-setup-0.1.0.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /LOG=C:\Windows\Temp\docgen-setup.log
;       [/DIR="C:\Program Files\docgen"] [/MODELDIR="\\server\models"] [/TEMPLATEDIR="\\server\templates"]
;       [/LOCKMODEL=1] [/NOREMOTE=1] [/NOPOLICY=1]
;   /MODELDIR     folder (or .gguf file) with the GGUF model(s) to use; written to the policy as model_path
;   /TEMPLATEDIR  extra template folder for every user; written to the policy as template_dirs
;   /LOCKMODEL=0  put model_path in the policy only when given (default 1: a given MODELDIR is locked, which is
;                 the only way the policy can set it: every policy key is locked)
;   /NOREMOTE=1   allow_remote = false (default 1)
;   /NOPOLICY=1   do not write or change policy.toml (IT deploys its own, e.g. by GPO)
; The policy goes to C:\ProgramData\docgen\policy.toml (docgen's site config folder); an existing policy.toml is
; never overwritten (it is IT's file; upgrades keep it). Uninstall: "docgen" in Apps, or
;   "C:\Program Files\docgen\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
; Uninstall removes the program folder only: policy.toml, C:\ProgramData\docgen\models|templates and every user's
; settings (%LOCALAPPDATA%\docgen) are kept.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\docgen"
#endif

[Setup]
AppId={{6F0B7D0E-2C55-4B8B-9C6C-5D0C0DCE0A11}
AppName=docgen
AppVersion={#AppVersion}
AppPublisher=docgen
DefaultDirName={autopf}\docgen
DefaultGroupName=docgen
DisableProgramGroupPage=yes
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=docgen-setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
SetupIconFile=docgen.ico
UninstallDisplayIcon={app}\docgen.exe
CloseApplications=yes
; the same AppId upgrades in place: {app} is replaced, ProgramData and user settings stay
UsePreviousAppDir=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"

[Dirs]
Name: "{commonappdata}\docgen"; Flags: uninsneveruninstall
Name: "{commonappdata}\docgen\models"; Flags: uninsneveruninstall
Name: "{commonappdata}\docgen\templates"; Flags: uninsneveruninstall

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\README.md"; DestDir: "{app}"; DestName: "README.IT.md"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\docgen"; Filename: "{app}\docgen.exe"; Comment: "Word documents from your data"
Name: "{autodesktop}\docgen"; Filename: "{app}\docgen.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add docgen to the system PATH (for the command line: docgenc)"; Flags: unchecked

[Registry]
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; \
  ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\docgen.exe"; Description: "Start docgen"; Flags: nowait postinstall skipifsilent

[Code]
var
  FolderPage: TInputDirWizardPage;

function Param(const Name, Default: String): String;
begin
  Result := ExpandConstant('{param:' + Name + '|' + Default + '}');
end;

function NeedsAddPath(Dir: String): Boolean;
var
  Current: String;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Current) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;

procedure InitializeWizard;
begin
  FolderPage := CreateInputDirPage(wpSelectDir, 'Models and templates',
    'Where should docgen find models and templates for every user of this PC?',
    'Leave a field empty to use the defaults: the embedded model and the bundled templates, plus ' +
    ExpandConstant('{commonappdata}') + '\docgen\models and \templates. A folder set here is written to the ' +
    'machine policy (policy.toml) and locked for users.', False, '');
  FolderPage.Add('Model folder or .gguf file (optional):');
  FolderPage.Add('Extra template folder (optional):');
  FolderPage.Values[0] := Param('MODELDIR', '');
  FolderPage.Values[1] := Param('TEMPLATEDIR', '');
end;

function TomlString(const S: String): String;
var
  V: String;
begin
  V := S;
  StringChangeEx(V, '\', '\\', True);
  StringChangeEx(V, '"', '\"', True);
  Result := '"' + V + '"';
end;

procedure WritePolicy;
var
  Policy, Text, ModelDir, TemplateDir: String;
begin
  if Param('NOPOLICY', '0') = '1' then Exit;
  Policy := ExpandConstant('{commonappdata}\docgen\policy.toml');
  if FileExists(Policy) then begin
    Log('policy.toml exists, left unchanged: ' + Policy);
    Exit;
  end;
  ModelDir := Trim(FolderPage.Values[0]);
  TemplateDir := Trim(FolderPage.Values[1]);
  Text := '# docgen machine policy, written by the installer. Every key here is locked for users.' + #13#10 +
          '# Keys: see "Policy keys" in the IT guide (README.IT.md in the install folder).' + #13#10;
  if Param('NOREMOTE', '1') = '1' then
    Text := Text + 'allow_remote = false' + #13#10;
  if (ModelDir <> '') and (Param('LOCKMODEL', '1') = '1') then
    Text := Text + 'model_path = ' + TomlString(ModelDir) + #13#10;
  if TemplateDir <> '' then
    Text := Text + 'template_dirs = [' + TomlString(TemplateDir) + ']' + #13#10;
  if not SaveStringToFile(Policy, Text, False) then
    MsgBox('Could not write ' + Policy, mbError, MB_OK);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssPostInstall then WritePolicy;
end;
