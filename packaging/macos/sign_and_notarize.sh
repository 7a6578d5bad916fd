#!/usr/bin/env bash
# Code-sign the app, then sign, notarise and staple the disk image (macOS only).
#
#   bash packaging/macos/sign_and_notarize.sh app "dist/Inbox Triage.app"   # before make_dmg.sh
#   bash packaging/macos/sign_and_notarize.sh dmg dist/InboxTriage-X.Y.Z.dmg  # after make_dmg.sh
#
# Driven by environment variables (the release workflow maps them from repository secrets):
#   MACOS_CERT_P12_BASE64  the "Developer ID Application" certificate and key, as a base64 .p12
#   MACOS_CERT_PASSWORD    the .p12's password
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD
#                          an Apple ID, its team, and an app-specific password, for notarytool
# Without the certificate, signing is skipped with a message (the app stays ad-hoc signed, as
# PyInstaller leaves it: it runs, but Gatekeeper asks the user to confirm the first start via
# right-click → Open). Without the three Apple variables, notarisation is skipped likewise.
# Either way the script exits 0 when it skipped, so an unsigned build still produces a dmg.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
what=${1:?usage: sign_and_notarize.sh app|dmg PATH}
target=${2:?usage: sign_and_notarize.sh app|dmg PATH}
entitlements="$here/entitlements.plist"
if [[ $what != app && $what != dmg ]]; then
  echo "usage: sign_and_notarize.sh app|dmg PATH" >&2
  exit 2
fi

if [[ -z ${MACOS_CERT_P12_BASE64:-} || -z ${MACOS_CERT_PASSWORD:-} ]]; then
  echo "Code signing and notarisation SKIPPED for $target: MACOS_CERT_P12_BASE64 and MACOS_CERT_PASSWORD are not set."
  echo "  The app is only ad-hoc signed: macOS shows 'cannot verify the developer' on first start"
  echo "  (right-click → Open once). Set both secrets to sign with a Developer ID certificate."
  exit 0
fi

if [[ $(uname -s) != Darwin ]]; then
  echo "sign_and_notarize.sh: runs on macOS only (codesign, notarytool)" >&2
  exit 2
fi
if [[ ! -e $target ]]; then
  echo "sign_and_notarize.sh: $target does not exist" >&2
  exit 2
fi

# A throwaway keychain holding only the signing identity, removed on exit.
keychain="$(mktemp -d "${TMPDIR:-/tmp}/inbox-triage-sign.XXXXXX")/signing.keychain-db"
keychain_password=$(uuidgen)
cleanup() {
  security delete-keychain "$keychain" >/dev/null 2>&1 || true
  rm -rf "$(dirname "$keychain")"
}
trap cleanup EXIT
security create-keychain -p "$keychain_password" "$keychain"
security set-keychain-settings -lut 3600 "$keychain"
security unlock-keychain -p "$keychain_password" "$keychain"
p12="$(dirname "$keychain")/cert.p12"
printf '%s' "$MACOS_CERT_P12_BASE64" | base64 --decode >"$p12"
security import "$p12" -k "$keychain" -P "$MACOS_CERT_PASSWORD" -T /usr/bin/codesign >/dev/null
rm -f "$p12"
security set-key-partition-list -S apple-tool:,apple: -s -k "$keychain_password" "$keychain" >/dev/null
# codesign looks identities up in the search list: put ours first, keep the others
existing=$(security list-keychains -d user | tr -d '"' | xargs)
# shellcheck disable=SC2086 # the list is whitespace-separated on purpose
security list-keychains -d user -s "$keychain" $existing
identity=$(security find-identity -v -p codesigning "$keychain" | awk -F'"' '/Developer ID Application/ {print $2; exit}')
if [[ -z $identity ]]; then
  echo "sign_and_notarize.sh: the certificate holds no 'Developer ID Application' identity" >&2
  exit 1
fi
echo "Signing with: $identity"

sign() {
  codesign --force --timestamp --options runtime --entitlements "$entitlements" --sign "$identity" "$@"
}

sign_app() {
  local app=$1 path
  # inside out: every Mach-O file and nested framework first (deepest paths first), the app last
  while IFS= read -r path; do
    sign "$path"
  done < <(
    {
      find "$app/Contents" -type f -print0 | while IFS= read -r -d '' file; do
        if file -b "$file" | grep -q 'Mach-O'; then printf '%s\n' "$file"; fi
      done
      find "$app/Contents" -type d -name '*.framework'
    } | awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2-
  )
  sign "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
  echo "Signed $app"
}

notarise() {
  local dmg=$1
  if [[ -z ${APPLE_ID:-} || -z ${APPLE_TEAM_ID:-} || -z ${APPLE_APP_PASSWORD:-} ]]; then
    echo "Notarisation SKIPPED for $dmg: APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD are not all set."
    echo "  The dmg is signed but not notarised: Gatekeeper still warns on first start."
    return 0
  fi
  xcrun notarytool submit "$dmg" \
    --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" --password "$APPLE_APP_PASSWORD" \
    --wait --timeout 30m
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
  echo "Notarised and stapled $dmg"
}

case $what in
  app) sign_app "$target" ;;
  dmg)
    codesign --force --timestamp --sign "$identity" "$target"
    notarise "$target"
    ;;
esac
