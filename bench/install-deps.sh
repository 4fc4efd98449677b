#!/usr/bin/env bash
# Installs the Debian packages the benchmark needs, by name, only when one is missing: Postfix
# (the comparison MTA; it ships smtp-source and smtp-sink), gnuplot for the plot, procps.
# Same mechanism as scripts/install-deps.sh: a refusing policy-rc.d keeps apt from starting the
# system Postfix (or anything else) on install. Safe to run again.
set -euo pipefail

pkgs=(postfix gnuplot-nox procps)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bench/install-deps: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -eq 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
