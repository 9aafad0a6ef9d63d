#!/usr/bin/env bash
# Idempotent set-up for `npm test`, `npm start` and `npm run bench` on Debian 12 + Node 20:
# system packages (only those missing), node modules (npm ci when the lock file changed),
# the TypeScript build, and the C build of switch/ once it exists. Safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ $quiet = 1 ] || echo "setup: $*" >&2; }

# Debian packages the tests and benchmarks use (tshark: independent decoder; os-ken: the
# foreign controller/codec we compare with; DPDK and Open vSwitch: datapath and peers;
# openvswitch-switch-dpdk + python3-scapy: the OVS-DPDK side of the datapath benchmark and its
# captures — its ovs-vswitchd-dpdk registers as a lower-priority alternative (50 < 100), so
# /usr/sbin/ovs-vswitchd, which the tests use, stays the plain userspace build).
pkgs=(tshark python3-os-ken pkg-config build-essential openvswitch-switch openvswitch-switch-dpdk python3-scapy libdpdk-dev dpdk-dev ethtool user-mode-linux ppp pppoe xl2tpd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer before installing.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# node modules: npm ci when package-lock.json differs from what was installed.
stamp=node_modules/.nfvnode-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi

# TypeScript (incremental: fast when nothing changed).
say "tsc"
node_modules/.bin/tsc -p .

# C datapath, once switch/ has a build file.
if [ -f switch/Makefile ]; then
  say "make -C switch"
  make -s -C switch >&2
fi
