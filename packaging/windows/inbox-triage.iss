; Inno Setup script: the Windows installer of Inbox Triage, InboxTriage-Setup-<version>.exe.
;
; Made from the one-folder bundle that packaging/inbox_triage.spec builds (dist\InboxTriage):
;
;   iscc /DAppVersion=0.1.0 /DAppNumericVersion=0.1.0.0 packaging\windows\inbox-triage.iss
;
; Optional: /DSourceDir=<bundle folder> (default ..\..\dist\InboxTriage), /DOutputDir=<folder>
; (default ..\..\dist). The release workflow (.github/workflows/release.yml) passes the version
; from the package metadata. Needs Inno Setup 6.
;
; What the installer does: installs for the current user (no administrator needed; an
; administrator may choose "all users"), a Start-menu entry, optionally a desktop shortcut and
; "start when I sign in", and offers to open the app at the end. The uninstaller removes the
; program and its shortcuts; the user's data (profile database, settings, logs in
; %LOCALAPPDATA%\Inbox Triage) stays unless the user ticks "Also delete my data".

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z ...
#endif
#ifndef AppNumericVersion
  #define AppNumericVersion AppVersion
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\InboxTriage"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

#define AppName "Inbox Triage"
#define AppExe "InboxTriage.exe"
; platformdirs' user_data_dir and user_log_dir on Windows: %LOCALAPPDATA%\Inbox Triage[\Logs]
#define DataDirName "Inbox Triage"

[Setup]
; AppId identifies the app across versions (upgrades, uninstall): never change it.
AppId={{6F3C1E2A-9B7D-4C55-8E21-3A4F0D9B7C61}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductName={#AppName}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir={#OutputDir}
OutputBaseFilename=InboxTriage-Setup-{#AppVersion}
SetupIconFile=..\..\desktop\app\resources\inbox-triage.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 or later (Qt 6 does not run on older versions)
MinVersion=10.0
; close a running Inbox Triage before replacing its files (Restart Manager), do not restart it
CloseApplications=yes
RestartApplications=no
SetupLogging=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "startatlogin"; Description: "Start Inbox Triage when I sign in to Windows (it waits in the notification area)"; GroupDescription: "Start-up:"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the previous version's program files completely, so nothing an older version
; shipped lingers next to the new one. (User data is never in {app}.)
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Triage the office's email"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon
Name: "{autostartup}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: startatlogin

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
var
  DeleteUserData: Boolean;

function UserDataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\{#DataDirName}');
end;

{ Before uninstalling: a small window with the "Also delete my data" tick box (unticked). A silent
  uninstall never deletes data. Returning False cancels the uninstall. }
function InitializeUninstall(): Boolean;
var
  Form: TSetupForm;
  Intro: TNewStaticText;
  DeleteBox: TNewCheckBox;
  UninstallButton, CancelButton: TNewButton;
begin
  Result := True;
  DeleteUserData := False;
  if UninstallSilent() then
    Exit;
#if Ver >= EncodeVer(6, 6, 0)
  Form := CreateCustomForm(440, 170, True, True);
#else
  Form := CreateCustomForm();
  Form.ClientWidth := ScaleX(440);
  Form.ClientHeight := ScaleY(170);
#endif
  try
    Form.Caption := 'Uninstall {#AppName}';
    Form.Position := poScreenCenter;

    Intro := TNewStaticText.Create(Form);
    Intro.Parent := Form;
    Intro.Left := ScaleX(16);
    Intro.Top := ScaleY(16);
    Intro.Width := Form.ClientWidth - ScaleX(32);
    Intro.Height := ScaleY(52);
    Intro.AutoSize := False;
    Intro.WordWrap := True;
    Intro.Caption := 'Quit Inbox Triage first (its icon in the notification area, then Quit). ' +
      'Your emails, audit log, settings and logs are kept, so a later installation carries on ' +
      'where you left off, unless you tick the box below.';

    DeleteBox := TNewCheckBox.Create(Form);
    DeleteBox.Parent := Form;
    DeleteBox.Left := ScaleX(16);
    DeleteBox.Top := Intro.Top + Intro.Height + ScaleY(12);
    DeleteBox.Width := Form.ClientWidth - ScaleX(32);
    DeleteBox.Height := ScaleY(36);
    DeleteBox.Caption := 'Also delete my data (everything in ' + UserDataDir() + ')';
    DeleteBox.Checked := False;

    UninstallButton := TNewButton.Create(Form);
    UninstallButton.Parent := Form;
    UninstallButton.Caption := 'Uninstall';
    UninstallButton.Width := ScaleX(88);
    UninstallButton.Height := ScaleY(26);
    UninstallButton.Left := Form.ClientWidth - ScaleX(16 + 88 + 8 + 88);
    UninstallButton.Top := Form.ClientHeight - ScaleY(16 + 26);
    UninstallButton.ModalResult := mrOk;
    UninstallButton.Default := True;

    CancelButton := TNewButton.Create(Form);
    CancelButton.Parent := Form;
    CancelButton.Caption := 'Cancel';
    CancelButton.Width := ScaleX(88);
    CancelButton.Height := ScaleY(26);
    CancelButton.Left := Form.ClientWidth - ScaleX(16 + 88);
    CancelButton.Top := UninstallButton.Top;
    CancelButton.ModalResult := mrCancel;
    CancelButton.Cancel := True;

    Form.ActiveControl := CancelButton;
    Result := Form.ShowModal() = mrOk;
    DeleteUserData := Result and DeleteBox.Checked;
  finally
    Form.Free();
  end;
end;

{ After the program files are gone: delete the user's data folder only if they asked for it. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DeleteUserData and DirExists(UserDataDir()) then
  begin
    if not DelTree(UserDataDir(), True, True, True) then
      MsgBox('Some of your data could not be deleted (is Inbox Triage still running?). ' +
        'You can delete this folder yourself: ' + UserDataDir(), mbError, MB_OK);
  end;
end;
