#!/usr/bin/env bash
# Starts a sandbox instance in the foreground (what `make run` does): configuration in
# RUN/etc, queue in RUN/spool, mailboxes in RUN/mail, logs on stdout, SMTP on 127.0.0.1:2525,
# nothing outside RUN touched. Started by root, the whole instance runs as `nobody`; otherwise
# as the calling user. RUN/etc/main.cf is written once and kept, so edits survive restarts.
# Usage: run-sandbox.sh BUILD_DIR RUN_DIR
set -euo pipefail
build=$1 run=$2
bin=$build/bin
port=${KESTREL_SANDBOX_PORT:-2525}
if [ "$(id -u)" -eq 0 ]; then user=nobody; else user=$(id -un); fi
group=$(id -gn "$user")

mkdir -p "$run"/{etc,spool,mail,data}
if [ ! -e "$run/etc/main.cf" ]; then
    cat > "$run/etc/main.cf" <<CF
# Kestrel sandbox instance (make run). Edit freely; remove this file to get the default back.
queue_directory = $run/spool
daemon_directory = $bin
command_directory = $bin
data_directory = $run/data
mail_spool_directory = $run/mail
mail_owner = $user
setgid_group = $group
default_privs = $user
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = sandbox.localdomain
mydestination = \$myhostname, localhost.\$mydomain, localhost
alias_maps = hash:$run/etc/aliases
alias_database = hash:$run/etc/aliases
compatibility_level = 3.6
CF
    printf 'postmaster: %s\nroot: %s\n' "$user" "$user" > "$run/etc/aliases"
fi
# master.cf: the shipped one, SMTP on the sandbox port, only the services that are built.
awk -v port="$port" -v bin="$bin" '
    function flush() { if (entry != "" && keep) printf "%s", entry; entry = ""; keep = 1 }
    /^[ \t]/ && entry != "" { entry = entry $0 "\n"; next }
    { flush() }
    /^#/ || /^[ \t]*$/ { print; next }
    {
        if ($1 == "smtp" && $2 == "inet") $1 = "127.0.0.1:" port
        cmd = $8; keep = (system("test -x " bin "/" cmd) == 0)
        entry = $0 "\n"
    }
    END { flush() }' "$(dirname "$0")/../conf/master.cf" > "$run/etc/master.cf"
[ -x "$bin/postalias" ] && MAIL_CONFIG=$run/etc "$bin/postalias" "hash:$run/etc/aliases"
if [ "$(id -u)" -eq 0 ]; then
    chown -R "$user:$group" "$run"
    exec setpriv --reuid="$user" --regid="$group" --clear-groups -- \
        env MAIL_CONFIG="$run/etc" "$bin/master" -i
fi
echo "sandbox: configuration in $run/etc, SMTP on 127.0.0.1:$port; Ctrl-C stops" >&2
exec env MAIL_CONFIG="$run/etc" "$bin/master" -i
