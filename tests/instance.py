"""A sandbox mail-system instance for end-to-end tests.

An Instance is a temporary tree (etc/, spool/, mail/, home/) with its own main.cf and master.cf,
driving the built programs. It runs entirely as one unprivileged user: the current user, or
`nobody` when the tests run as root (as CI does). Ports are picked free on 127.0.0.1. Every
process it starts is stopped by stop(), which the fixtures always call.
"""
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from conftest import BUILD, REPO, bin_path

TEST_ROOT = pathlib.Path(os.environ.get("KESTREL_TEST_ROOT", "/tmp/kestrel-tests"))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Poll predicate until it is true; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def helper_path(name):
    """Path of a test helper program built from tests/helpers/."""
    return str(BUILD / "tests" / "helpers" / name)


class Instance:
    """One sandbox instance; see the module comment."""

    def __init__(self, name="inst", user=None, main_cf=None, master_cf=None):
        TEST_ROOT.mkdir(mode=0o755, exist_ok=True)
        os.chmod(TEST_ROOT, 0o755)
        self.root = pathlib.Path(tempfile.mkdtemp(prefix=name + "-", dir=TEST_ROOT))
        os.chmod(self.root, 0o755)
        if user is None:
            user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.user = user
        self.pw = pwd.getpwnam(user)
        self.etc = self.root / "etc"
        self.spool = self.root / "spool"
        self.mail = self.root / "mail"
        self.log_path = self.root / "maillog"
        for d in (self.etc, self.spool, self.mail):
            d.mkdir()
        self.smtp_port = free_port()
        self.main = {
            "queue_directory": str(self.spool),
            "daemon_directory": str(BUILD / "bin"),
            "command_directory": str(BUILD / "bin"),
            "data_directory": str(self.root / "data"),
            "mail_spool_directory": str(self.mail),
            "mail_owner": user,
            "setgid_group": self._group_name(),
            "default_privs": user,
            "maillog_file": str(self.log_path),
            "myhostname": "mail.example.test",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "alias_maps": "",
            "alias_database": "",
        }
        if os.environ.get("SANITIZE") == "1":
            self.main["import_environment"] = (
                "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C ASAN_OPTIONS UBSAN_OPTIONS")
        if main_cf:
            self.main.update(main_cf)
        self.write_main_cf()
        self.write_master_cf(master_cf if master_cf is not None else "")
        self._chown_tree()
        self.started = False

    def _group_name(self):
        import grp
        return grp.getgrgid(self.pw.pw_gid).gr_name

    def _chown_tree(self):
        if os.geteuid() != 0:
            return
        for path in [self.root, *self.root.rglob("*")]:
            os.lchown(path, self.pw.pw_uid, self.pw.pw_gid)

    # ---- configuration ---------------------------------------------------------------------

    def write_main_cf(self):
        text = "".join(f"{k} = {v}\n" for k, v in self.main.items())
        (self.etc / "main.cf").write_text(text)

    def write_master_cf(self, text):
        (self.etc / "master.cf").write_text(text)
        if os.geteuid() == 0:
            os.chown(self.etc / "master.cf", self.pw.pw_uid, self.pw.pw_gid)

    # ---- running programs --------------------------------------------------------------------

    def env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = str(self.etc)
        return e

    def _as_user(self, argv):
        """Prefix argv so it runs as the instance user (only needed when we are root)."""
        if os.geteuid() == 0 and self.pw.pw_uid != 0:
            return ["setpriv", f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}",
                    "--clear-groups", "--"] + argv
        return argv

    def run(self, name, *args, input=None, as_root=False, timeout=30, check=False):
        """Run a built program against this instance's configuration."""
        argv = [bin_path(name), *map(str, args)]
        if not as_root:
            argv = self._as_user(argv)
        return subprocess.run(argv, input=input, capture_output=True, text=True, env=self.env(),
                              timeout=timeout, check=check, cwd=self.root)

    def start_master(self, as_root=False):
        """Start master (detached, waiting until it is up)."""
        r = self.run("master", "-w", as_root=as_root)
        assert r.returncode == 0, f"master failed to start: {r.stderr}\n{self.log()}"
        self.started = True
        return r

    def master_pid(self):
        try:
            return int((self.spool / "pid" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def processes(self):
        """(pid, uid, argv) of every process whose config is this instance's (by MAIL_CONFIG)."""
        found = []
        for p in pathlib.Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                env = (p / "environ").read_bytes().split(b"\0")
                if f"MAIL_CONFIG={self.etc}".encode() not in env:
                    continue
                argv = (p / "cmdline").read_bytes().split(b"\0")
                uid = int((p / "status").read_text().split("\nUid:")[1].split()[0])
                found.append((int(p.name), uid, [a.decode() for a in argv if a]))
            except (OSError, IndexError, ValueError):
                continue
        return found

    def children(self, command):
        """Processes of this instance whose program name is command."""
        return [p for p in self.processes() if p[2] and os.path.basename(p[2][0]) == command]

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_log(self, text, timeout=10.0):
        return wait_for(lambda: text in self.log(), timeout, what=f"log line {text!r}")

    def stop(self):
        """Stop master (SIGTERM), then kill anything of this instance that is left."""
        pid = self.master_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid, _, _ in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.started = False

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def connect(port, host="127.0.0.1", timeout=10):
    """A line-oriented client: returns (socket, file)."""
    s = socket.create_connection((host, port), timeout=timeout)
    return s, s.makefile("rw", newline="")
