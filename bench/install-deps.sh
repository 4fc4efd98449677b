#!/usr/bin/env bash
# Installs what the benchmark needs, by Debian package name and only when missing: Postfix (the
# comparison MTA; it ships smtp-source and smtp-sink), gnuplot for the plot, procps. The
# mechanism (and its refusing policy-rc.d, so no system Postfix starts) is scripts/install-deps.sh.
exec "$(dirname "$0")/../scripts/install-deps.sh" postfix gnuplot-nox procps
