#!/usr/bin/env bash
# Installs a build: commands into command_directory, daemons into daemon_directory, the shipped
# configuration into config_directory (existing main.cf/master.cf are never overwritten), and
# the queue and data directories. Called by `make install`; every path is prefixed by DESTDIR.
# The built programs find a DESTDIR tree by themselves (see util/mail/paths.c), so
# `make install DESTDIR=/tmp/x` gives a tree that runs in place.
set -euo pipefail
build=$1 destdir=$2 config_dir=$3 queue_dir=$4 command_dir=$5 daemon_dir=$6 data_dir=$7
sendmail_path=$8 newaliases_path=$9 mailq_path=${10} commands=${11}

install -d -m 755 "$destdir$config_dir" "$destdir$command_dir" "$destdir$daemon_dir"
install -d -m 755 "$destdir$queue_dir" "$destdir$(dirname "$newaliases_path")" \
    "$destdir$(dirname "$mailq_path")" "$destdir$(dirname "$sendmail_path")"
install -d -m 700 "$destdir$data_dir"

for prog in "$build"/bin/*; do
    name=$(basename "$prog")
    case " $commands " in
        *" $name "*) install -m 755 "$prog" "$destdir$command_dir/$name" ;;
        *) install -m 755 "$prog" "$destdir$daemon_dir/$name" ;;
    esac
done

# postdrop alone is set-group-id setgid_group (the one privileged command): it may write into
# maildrop/ (mode 1730) and reach the sockets in public/ (mode 0710) — pickup, and showq on
# behalf of postqueue (postdrop -Q) for users who cannot read the queue. Done only by root
# and when the group exists.
setgid_group=${SETGID_GROUP:-postdrop}
if [ "$(id -u)" -eq 0 ] && getent group "$setgid_group" >/dev/null &&
    [ -e "$destdir$command_dir/postdrop" ]; then
    chgrp "$setgid_group" "$destdir$command_dir/postdrop"
    chmod 2755 "$destdir$command_dir/postdrop"
fi

# sendmail's other names.
if [ -e "$destdir$command_dir/sendmail" ]; then
    [ "$command_dir/sendmail" = "$sendmail_path" ] ||
        ln -sf "$command_dir/sendmail" "$destdir$sendmail_path"
    ln -sf "$sendmail_path" "$destdir$newaliases_path"
    ln -sf "$sendmail_path" "$destdir$mailq_path"
fi

for f in main.cf master.cf; do
    [ -e "$destdir$config_dir/$f" ] || install -m 644 "conf/$f" "$destdir$config_dir/$f"
done
for f in conf/*; do
    name=$(basename "$f")
    case "$name" in main.cf | master.cf) continue ;; esac
    install -m 644 "$f" "$destdir$config_dir/$name.default" 2>/dev/null || true
done
echo "installed into ${destdir:-/}"
