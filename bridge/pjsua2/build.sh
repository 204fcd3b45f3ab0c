#!/usr/bin/env bash
# Builds PJSIP's pjsua2 Python module with conference-sized limits from the
# pjproject tree inside Debian 12's `ring` (jami) source package, once: the
# result is cached under $KAMCONF_CACHE keyed by every input, and installed
# into the virtualenv given as $1. The PyPI wheel is capped at 4 calls
# (see ARCHITECTURE.md, "Facts already established").
set -euo pipefail

venv=${1:?usage: build.sh VENV}
here=$(cd "$(dirname "$0")" && pwd)
cache=${KAMCONF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kamconf}

src_version="20230206.0~ds2-1.1+deb12u1"
orig_sha256="028661c72b962a32d30a310f5f24e77540c96c479576e886bc3a0a8e9ececff0"
debian_sha256="236ca4188210e66296e4d41c177b3716585fe52296dab08c958759d8cb9c2b8e"
orig="ring_20230206.0~ds2.orig.tar.gz"
debian="ring_${src_version}.debian.tar.xz"

pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
configure_flags=(--enable-epoll --disable-sound --disable-video --disable-ssl --disable-speex-codec
  --disable-speex-aec --disable-gsm-codec --disable-ilbc-codec --disable-g7221-codec
  --disable-opencore-amr --disable-silk --disable-opus --disable-bcg729 --disable-libyuv
  --disable-libwebrtc --disable-sdl --disable-ffmpeg --disable-v4l2 --disable-openh264 --disable-vpx)
# -threads: PJSIP calls back into Python from its own threads (media events, end of
# file); without it those callbacks run without the GIL and corrupt the interpreter.
swig_flags="-threads"
# The cache key covers everything that changes the built module.
key=$(cat "$here/config_site.h" "$here/epoll-sleep-cap.patch" \
  <(echo "$src_version $orig_sha256 $pyver ${configure_flags[*]} $swig_flags") | sha256sum | cut -c1-16)
out="$cache/pjsua2-$key"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')

install_into_venv() {
  local so
  so=$(basename "$out"/_pjsua2*.so)
  if ! cmp -s "$out/pjsua2.py" "$site/pjsua2.py" 2>/dev/null || ! cmp -s "$out/$so" "$site/$so" 2>/dev/null; then
    # Copied beside, then renamed over: a running bridge keeps the module it mapped (a copy onto
    # the same file would change the code under it).
    for file in "$out/$so" "$out/pjsua2.py"; do
      cp "$file" "$site/.$(basename "$file").new" && mv -f "$site/.$(basename "$file").new" "$site/$(basename "$file")"
    done
    echo "pjsua2: installed from $out"
  fi
}

if [ -f "$out/.complete" ]; then
  install_into_venv
  exit 0
fi

echo "pjsua2: building (first run only, about 3-5 minutes)"
work=$(mktemp -d "${TMPDIR:-/tmp}/kamconf-pjsua2.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private sources list with deb-src entries derived from the host's Debian
# mirrors keeps the host's apt configuration untouched.
apt_uris() {
  grep -rhE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | sed 's:/*$::' || true
}
mirror=$(apt_uris | grep -E '/debian$' | head -n1 || true)
security=$(apt_uris | grep -E '/debian-security$' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
security=${security:-http://deb.debian.org/debian-security}
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
cat >"$work/apt/sources.list" <<EOF
deb-src $mirror bookworm main
deb-src $mirror bookworm-updates main
deb-src $security bookworm-security main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update
(cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only "ring=$src_version") || {
  echo "pjsua2: Debian source ring=$src_version is not available; update bridge/pjsua2/build.sh" >&2
  exit 1
}
(cd "$work" && printf '%s  %s\n%s  %s\n' "$orig_sha256" "$orig" "$debian_sha256" "$debian" | sha256sum -c --quiet) || {
  echo "pjsua2: checksum mismatch for the Debian ring source; refusing to build" >&2
  exit 1
}

tar xzf "$work/$orig" -C "$work" --wildcards '*/daemon/contrib/tarballs-unpacked/pjproject-*'
tar xJf "$work/$debian" -C "$work"
pj=$(echo "$work"/jami-*/daemon/contrib/tarballs-unpacked/pjproject-*/pjproject-*)
# The Debian CVE patch is written against the whole ring tree.
(cd "$work"/jami-* && patch -p1 -s < "$work/debian/patches/CVE-2023-27585_ring.patch")
(cd "$pj" && patch -p1 -s < "$here/epoll-sleep-cap.patch")
cp "$here/config_site.h" "$pj/pjlib/include/pj/config_site.h"

cd "$pj"
CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC" ./configure -q "${configure_flags[@]}" >/dev/null
make -s dep >/dev/null 2>&1
make -s -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
# Recipes expand variables after the whole Makefile is read, so an appended += applies.
echo "SWIG_FLAGS += $swig_flags" >>pjsip-apps/src/swig/python/Makefile
PATH="$venv/bin:$PATH" make -s -C pjsip-apps/src/swig/python >"$work/swig.log" 2>&1 \
  || { tail -40 "$work/swig.log" >&2; exit 1; }

mkdir -p "$out.tmp"
cp pjsip-apps/src/swig/python/build/lib*/_pjsua2*.so pjsip-apps/src/swig/python/pjsua2.py "$out.tmp/"
touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
install_into_venv
