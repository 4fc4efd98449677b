"""End-to-end tests of the spawn service: a tiny policy server (reads one request, answers
action=DUNNO) run per connection on a unix listener under a sandbox master, and stand-alone
(-S) runs for the time limit and abnormal exits."""
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from conftest import bin_path
from instance import Instance, wait_for

POLICY = """#!%s
import sys
req = {}
for line in sys.stdin:
    line = line.rstrip("\\n")
    if not line:
        break
    k, v = line.split("=", 1)
    req[k] = v
sys.stderr.write("policy saw %%s\\n" %% req.get("recipient", "?"))
sys.stdout.write("action=DUNNO\\n\\n")
sys.stdout.flush()
sys.exit(int(req.get("exit", "0")))
""" % sys.executable


@pytest.fixture
def inst():
    i = Instance("spawn")
    script = i.root / "policy.py"
    script.write_text(POLICY)
    os.chmod(script, 0o755)
    yield i
    i.stop()
    i.cleanup()


def ask(path, attrs):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall("".join("%s=%s\n" % kv for kv in attrs).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode()


def test_policy_server_on_unix_socket(inst):
    inst.write_master_cf("policy unix - n n - 0 spawn user=%s argv=%s/policy.py\n"
                         % (inst.user, inst.root))
    inst.start_master()
    sock = inst.spool / "private" / "policy"
    wait_for(sock.exists, what="policy socket")
    answer = ask(sock, [("request", "smtpd_access_policy"), ("recipient", "u@example.com")])
    assert answer == "action=DUNNO\n\n"
    inst.wait_log("policy.py: policy saw u@example.com")
    # A second connection gets a fresh command; an abnormal exit is logged.
    assert ask(sock, [("request", "smtpd_access_policy"), ("exit", "3")]) == "action=DUNNO\n\n"
    inst.wait_log("command %s/policy.py exit status 3" % inst.root)


def standalone(tmp, argv, stdin, extra_main=""):
    (tmp / "etc").mkdir(exist_ok=True)
    (tmp / "etc" / "main.cf").write_text("queue_directory = %s\nmaillog_file = %s/maillog\n%s"
                                         % (tmp, tmp, extra_main))
    user = ["user=nobody"] if os.getuid() == 0 else []
    env = dict(os.environ, MAIL_CONFIG=str(tmp / "etc"))
    return subprocess.run([bin_path("spawn"), "-S", "-n", "policy"] + user + argv,
                          input=stdin, capture_output=True, env=env, timeout=30)


def test_standalone_answer_and_time_limit():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-spawn-"))
    os.chmod(tmp, 0o755)
    try:
        script = tmp / "policy.py"
        script.write_text(POLICY)
        os.chmod(script, 0o755)
        p = standalone(tmp, ["argv=%s" % script], b"recipient=a@b\n\n")
        assert p.returncode == 0, p.stderr
        assert p.stdout == b"action=DUNNO\n\n"
        p = standalone(tmp, ["argv=/bin/sleep", "10"], b"", "policy_time_limit = 1s\n")
        assert p.returncode == 0
        assert "warning: command /bin/sleep time limit exceeded" in (tmp / "maillog").read_text()
        p = standalone(tmp, ["user=root", "argv=/bin/true"], b"")
        assert p.returncode != 0
        assert "privileged user" in (tmp / "maillog").read_text() + p.stderr.decode()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
