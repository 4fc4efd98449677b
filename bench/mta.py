"""The two mail systems under test, as sandbox instances with one interface.

Kestrel runs from the build directory as one unprivileged user (like tests/instance.py);
Debian's Postfix runs as a separate test instance (`postfix -c DIR start`) with its own
config, queue and data directories, log file and loopback ports; the system instance and
/etc/postfix are never used. Both get the same main.cf settings that matter for the loads:
local domain bench.test delivered to Maildir under ROOT/mail/, everything else relayed to an
smtp-sink on loopback, 127.0.0.0/8 as mynetworks, no alias or recipient tables.
"""
import grp
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
BENCH_ROOT = pathlib.Path(os.environ.get("KESTREL_BENCH_ROOT", "/tmp/kestrel-bench"))
LOCAL_DOMAIN = "bench.test"
RELAY_DOMAIN = "relay.test"
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def descendants(root_pid):
    """root_pid and every process below it (from /proc/*/stat)."""
    children = {}
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(p.name))
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_kb(pids):
    """(summed VmRSS, summed Pss) in KiB of the given processes."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return rss, pss


class MTA:
    """What the loads need from a mail system; subclasses fill in the specifics."""

    name = "?"
    recipient_user = "nobody"

    def __init__(self, tag, smtpd_limit):
        BENCH_ROOT.mkdir(mode=0o755, exist_ok=True)
        os.chmod(BENCH_ROOT, 0o755)
        self.root = pathlib.Path(tempfile.mkdtemp(prefix=tag + "-", dir=BENCH_ROOT))
        os.chmod(self.root, 0o755)
        self.etc = self.root / "etc"
        self.spool = self.root / "spool"
        self.mail = self.root / "mail"
        self.data = self.root / "data"
        self.log_path = self.root / "maillog"
        for d in (self.etc, self.spool, self.mail, self.data):
            d.mkdir()
        os.chmod(self.mail, 0o1777)
        self.smtp_port = free_port()
        self.sink_port = free_port()
        self.smtpd_limit = smtpd_limit
        self.sink = None
        self.sink_out = self.root / "sink.out"

    def common_main_cf(self):
        return {
            "compatibility_level": "3.6",
            "queue_directory": str(self.spool),
            "data_directory": str(self.data),
            "mail_spool_directory": f"{self.mail}/",
            "maillog_file": str(self.log_path),
            "myhostname": f"{self.name}.{LOCAL_DOMAIN}",
            "mydestination": f"$myhostname, localhost, {LOCAL_DOMAIN}",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "relayhost": f"[127.0.0.1]:{self.sink_port}",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
        }

    def write_main_cf(self, params):
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in params.items()))

    def master_cf(self, keep):
        """The shipped conf/master.cf with SMTP on our port, chroot off, the smtpd process
        limit raised for the concurrency load, and only the services keep() accepts."""
        out, entry, keep_entry = [], [], True
        lines = (REPO / "conf" / "master.cf").read_text().splitlines()
        for line in lines + ["#end"]:
            if line[:1] in (" ", "\t") and entry:
                entry.append(line)
                continue
            if entry and keep_entry:
                out.extend(entry)
            entry = []
            if line.startswith("#") or not line.strip():
                out.append(line)
                continue
            f = line.split()
            if f[0] == "smtp" and f[1] == "inet":
                f[0], f[6] = f"127.0.0.1:{self.smtp_port}", str(self.smtpd_limit)
            f[4] = "n"
            keep_entry = keep(f[7])
            entry = ["  ".join(f[:8]) + ("  " + " ".join(f[8:]) if f[8:] else "")]
        return "\n".join(out[:-1]) + "\n"

    # ---- state ----------------------------------------------------------------------------

    def queue_count(self):
        n = 0
        for q in QUEUES:
            for _, _, files in os.walk(self.spool / q):
                n += len(files)
        return n

    def maildir_new(self):
        return self.mail / self.recipient_user / "new"

    def maildir_count(self):
        try:
            return sum(1 for _ in os.scandir(self.maildir_new()))
        except FileNotFoundError:
            return 0

    def clear_maildir(self):
        shutil.rmtree(self.mail / self.recipient_user, ignore_errors=True)

    def master_pid(self):
        try:
            return int((self.spool / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def pids(self):
        pid = self.master_pid()
        return descendants(pid) if pid and os.path.exists(f"/proc/{pid}") else []

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # ---- the sink -----------------------------------------------------------------------------

    def start_sink(self):
        self.stop_sink()
        self.sink_out.write_text("")
        out = open(self.sink_out, "w")
        argv = ["smtp-sink", "-c", "-m", "200"]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        self.sink = subprocess.Popen(argv + [f"127.0.0.1:{self.sink_port}", "1024"],
                                     stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()
        wait_for(self._sink_listening, 10, what="smtp-sink to listen")

    def _sink_listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.sink_port), timeout=1).close()
            return True
        except OSError:
            return False

    def sink_count(self):
        """Messages the sink has received since it started (its -c counter)."""
        with open(self.sink_out, "rb") as f:
            f.seek(max(0, os.path.getsize(self.sink_out) - 256))
            text = f.read().decode(errors="replace").replace("\r", "\n")
        last = [line for line in text.splitlines() if "mesg=" in line]
        if not last:
            return 0
        return int(last[-1].split("mesg=")[1].split()[0])

    def stop_sink(self):
        if self.sink and self.sink.poll() is None:
            self.sink.kill()
            self.sink.wait(timeout=10)
        self.sink = None

    def cleanup(self, keep=False):
        self.stop_sink()
        self.stop()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


class Kestrel(MTA):
    name = "kestrel"

    def __init__(self, build, smtpd_limit=250):
        super().__init__("kestrel", smtpd_limit)
        self.bin = pathlib.Path(build) / "bin"
        self.user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.pw = pwd.getpwnam(self.user)
        self.recipient_user = self.user
        main = self.common_main_cf()
        main.update({
            "daemon_directory": str(self.bin),
            "command_directory": str(self.bin),
            "mail_owner": self.user,
            "setgid_group": grp.getgrgid(self.pw.pw_gid).gr_name,
            "default_privs": self.user,
        })
        if os.environ.get("SANITIZE") == "1":
            main["import_environment"] = (
                "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C ASAN_OPTIONS UBSAN_OPTIONS")
        self.write_main_cf(main)
        (self.etc / "master.cf").write_text(
            self.master_cf(lambda cmd: (self.bin / cmd).exists()))
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.lchown(path, self.pw.pw_uid, self.pw.pw_gid)

    def version(self):
        r = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                           capture_output=True, text=True)
        return f"Kestrel (git {r.stdout.strip() or '?'})"

    def env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = str(self.etc)
        return e

    def as_user(self, argv):
        if os.geteuid() == 0 and self.pw.pw_uid != 0:
            return ["setpriv", f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}",
                    "--clear-groups", "--"] + argv
        return argv

    def submit_command(self):
        """(prefix, sendmail argv): the submission loop runs as the instance user."""
        return self.as_user([]), [str(self.bin / "sendmail")]

    def start(self):
        r = subprocess.run(self.as_user([str(self.bin / "master"), "-w"]), env=self.env(),
                           capture_output=True, text=True, timeout=30, cwd=self.root)
        if r.returncode != 0:
            raise RuntimeError(f"kestrel master failed: {r.stderr}\n{self.log()[-2000:]}")
        wait_for(self._listening, 10, what="kestrel smtpd port")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        pid = self.master_pid()
        pids = self.pids()
        if pid and pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
            time.sleep(0.05)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Postfix(MTA):
    name = "postfix"

    def __init__(self, smtpd_limit=250):
        super().__init__("postfix", smtpd_limit)
        main = self.common_main_cf()
        main.update({
            "daemon_directory": "/usr/lib/postfix/sbin",
            "command_directory": "/usr/sbin",
            "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "default_privs": "nobody",
            "maillog_file_prefixes": str(self.root),
            "smtputf8_enable": "no",
        })
        self.write_main_cf(main)
        daemons = pathlib.Path("/usr/lib/postfix/sbin")
        (self.etc / "master.cf").write_text(self.master_cf(lambda cmd: (daemons / cmd).exists()))
        # postfix-script insists on these owners; the queue is created by `postfix start`.
        os.chown(self.data, pwd.getpwnam("postfix").pw_uid, -1)

    def version(self):
        r = subprocess.run(["postconf", "-c", str(self.etc), "-h", "mail_version"],
                           capture_output=True, text=True)
        return f"Postfix {r.stdout.strip()} (Debian)"

    def env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = str(self.etc)
        return e

    def submit_command(self):
        # Run as root: a non-root sendmail would need this directory listed in the system
        # main.cf's alternate_config_directories, and we never touch /etc/postfix.
        return [], ["/usr/sbin/sendmail", "-C", str(self.etc)]

    def start(self):
        r = subprocess.run(["postfix", "-c", str(self.etc), "start"], capture_output=True,
                           text=True, timeout=60, env=self.env())
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stderr}\n{self.log()[-2000:]}")
        wait_for(lambda: self.master_pid(), 10, what="postfix master.pid")
        wait_for(self._listening, 10, what="postfix smtpd port")

    _listening = Kestrel._listening

    def stop(self):
        pids = self.pids()
        if pids:
            subprocess.run(["postfix", "-c", str(self.etc), "stop"], capture_output=True,
                           timeout=60, env=self.env())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
            time.sleep(0.05)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
