#!/usr/bin/env bash
# Installs what kamconf needs and is missing, idempotently; silent when nothing is missing.
#   Debian packages -> .venv with the pinned PyPI packages -> pjsua2 built for the bridge.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

packages=(
  kamailio kamailio-python3-modules kamailio-tls-modules openssl rtpengine-daemon redis-server sip-tester
  espeak-ng sox libsox-fmt-mp3 python3 python3-venv python3-dev build-essential swig
  ca-certificates chromium chromium-driver prometheus prometheus-redis-exporter postgresql
  asterisk-core-sounds-en-wav asterisk-core-sounds-ru-wav asterisk-moh-opsound-wav
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  # The stack runs its own kamailio, rtpengine and redis on its own ports: keep
  # the packages' system services from starting (and from taking 5060).
  policy=/usr/sbin/policy-rc.d
  created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    created_policy=1
  fi
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  [ -n "$created_policy" ] && as_root rm -f "$policy"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now kamailio rtpengine-daemon prometheus prometheus-redis-exporter \
      >/dev/null 2>&1 || true
  fi
fi

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating .venv" >&2
  # Debian's python3: the same interpreter Kamailio embeds for KEMI.
  /usr/bin/python3 -m venv "$venv" >&2
fi
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages (requirements.txt)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt >&2
  echo "$want" >"$stamp"
fi

bash "$root/bridge/pjsua2/build.sh" "$venv" >&2
"$venv/bin/python" -m stack.prompts >&2
