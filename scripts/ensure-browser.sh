#!/usr/bin/env bash
# The UI's browser tests drive Debian's Chromium (Playwright for Python, no browser download)
# and need CJK fonts to render the pages' Chinese. Install them when missing; fail loudly, with
# the command that fixes it, when that cannot be done.
set -u
FIX="apt-get update && apt-get install -y chromium fonts-noto-cjk"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: ${missing[*]} missing and this user cannot install them. Fix (as root): $FIX" >&2
  exit 1
fi
echo "ensure-browser: installing ${missing[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/ensure-browser.log 2>&1; then
  tail -n 20 /tmp/ensure-browser.log >&2
  echo "ensure-browser: installing ${missing[*]} failed (log above). Fix: $FIX" >&2
  exit 1
fi
command -v chromium >/dev/null 2>&1 || { echo "ensure-browser: chromium still missing. Fix: $FIX" >&2; exit 1; }
