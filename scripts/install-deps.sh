#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, by name, only when one is missing.
# Called by `make run`, `make check` and bench/run; safe to run again. Needs root (or sudo) only when
# something is actually missing.
set -euo pipefail

build_pkgs=(clang-format gcc make libc6-dev libssl-dev libsasl2-dev libdb-dev libpcre2-dev libmilter-dev
            libcmocka-dev openssl)
test_pkgs=(python3 python3-pytest python3-aiosmtpd swaks libnet-ssleay-perl sasl2-bin libsasl2-modules dovecot-core dovecot-imapd dovecot-lmtpd dnsmasq
           procps psmisc pflogsumm fail2ban postfix postfix-policyd-spf-python
           gnuplot-nox opendkim opendkim-tools python3-dkim)

# With arguments, only those packages (bench/ uses this); without, everything above.
if [ $# -gt 0 ]; then wanted=("$@"); else wanted=("${build_pkgs[@]}" "${test_pkgs[@]}"); fi
missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Packages that ship services (fail2ban, dnsmasq, saslauthd, postfix) must not start them on
# install; Debian's postfix is only a test peer (tests/test_smtp_tls.py runs its own instance).
if [ "$(id -u)" -eq 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
