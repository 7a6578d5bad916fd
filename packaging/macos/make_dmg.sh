#!/usr/bin/env bash
# Pack the app into a disk image with the usual "drag to Applications" layout (macOS only: hdiutil).
#
#   bash packaging/macos/make_dmg.sh ["dist/Inbox Triage.app"] [dist]
#
# Writes <out>/InboxTriage-<version>.dmg (the version from the app's Info.plist) and prints its
# path on the last line. Sign the app before this (sign_and_notarize.sh app …) and the dmg after it
# (sign_and_notarize.sh dmg …).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

app=${1:-dist/Inbox Triage.app}
out=${2:-dist}

if [[ $(uname -s) != Darwin ]]; then
  echo "make_dmg.sh: runs on macOS only (it needs hdiutil)" >&2
  exit 2
fi
if [[ ! -d $app ]]; then
  echo "make_dmg.sh: $app does not exist; build it first: python packaging/build.py" >&2
  exit 2
fi

version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")
dmg="$out/InboxTriage-$version.dmg"
staging=$(mktemp -d "${TMPDIR:-/tmp}/inbox-triage-dmg.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# ditto keeps the bundle's symlinks, permissions and signatures intact (cp -R may not)
ditto "$app" "$staging/$(basename "$app")"
ln -s /Applications "$staging/Applications"
mkdir -p "$out"
rm -f "$dmg"
hdiutil create \
  -volname "Inbox Triage $version" \
  -srcfolder "$staging" \
  -fs HFS+ \
  -format UDZO -imagekey zlib-level=9 \
  -ov "$dmg"
hdiutil verify "$dmg"
echo "$dmg"
