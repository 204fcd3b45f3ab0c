#!/usr/bin/env bash
# Makes the base image every kamconf image starts FROM, once: Debian bookworm (minbase) made with
# debootstrap from this machine's own Debian mirror (read from its apt sources) and `docker import`ed.
# No registry is needed (none can be pulled from here). Idempotent: an existing tag is kept.
set -euo pipefail
tag=${KAMCONF_BASE_IMAGE:-kamconf-base:bookworm}
if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
mirror=$(grep -rhE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | grep -oE 'https?://[^ ]+' | sed 's:/*$::' | grep -E '/debian$' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
command -v debootstrap >/dev/null || { echo "base: needs Debian's debootstrap (apt-get install debootstrap)" >&2; exit 1; }
root=$(mktemp -d "${TMPDIR:-/tmp}/kamconf-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "base: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# The image's apt sources: the same mirror, with updates and security.
security=${mirror%/debian}/debian-security
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
  "$mirror" "$mirror" "$security" >"$root/etc/apt/sources.list"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "base: $tag made" >&2
