"""End-to-end tests of check_policy_service (smtpd/smtpd_check_policy.c, util/mail/policy_client.c)
in a sandbox instance (smtpd on the instance port, cleanup, qmgr, local, spawn):

- a Python policy server on loopback (inet) answering per the sender's local part: REJECT with
  text, DEFER, DUNNO, PREPEND (visible in the delivered message); one connection for the whole
  SMTP session (connection reuse), the request attributes as sent;
- the same script run per connection by our spawn service (unix:private/policy);
- a server that is down and one that stalls: the default action and Postfix's warnings;
- Debian's postfix-policyd-spf-python started through spawn exactly as seed 002 configures it,
  against SPF records in tests/spf.zone served by with-test-dns: pass (Received-SPF: Pass
  prepended) and fail (rejected with the SPF text) from 127.0.0.2 and 127.0.0.3. That test
  re-runs itself under with-test-dns (needs root for the mount namespace).
"""
import os
import pathlib
import shutil
import smtplib
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import BUILD, REPO, bin_path
from instance import Instance, free_port, wait_for

WITH_TEST_DNS = pathlib.Path(os.environ.get("KESTREL_WITH_TEST_DNS",
                                            REPO.parent / "shared" / "tools" / "with-test-dns"))
if not WITH_TEST_DNS.exists():
    WITH_TEST_DNS = pathlib.Path("/work/shared/tools/with-test-dns")
ZONE = REPO / "tests" / "spf.zone"
POLICYD_SPF = "/usr/bin/policyd-spf"
SPF_CONF = "/etc/postfix-policyd-spf-python/policyd-spf.conf"

needs_smtpd = pytest.mark.skipif(not os.path.exists(bin_path("smtpd")), reason="smtpd not built")

# The scripted policy: the action depends on the sender's local part.
ACTIONS = {
    "reject": "REJECT go away",
    "defer": "DEFER try later",
    "dunno": "DUNNO",
    "prepend": "PREPEND X-Policy: prepended by the policy server",
    "code": "550 5.7.23 policy says no",
}


def answer(req):
    local = req.get("sender", "").split("@")[0]
    return "action=%s\n\n" % ACTIONS.get(local, "DUNNO")


POLICY_SCRIPT = """#!%s
import sys
ACTIONS = %r
req = {}
for line in sys.stdin:
    line = line.rstrip("\\n")
    if not line:
        local = req.get("sender", "").split("@")[0]
        sys.stdout.write("action=%%s\\n\\n" %% ACTIONS.get(local, "DUNNO"))
        sys.stdout.flush()
        req = {}
        continue
    k, v = line.split("=", 1)
    req[k] = v
""" % (sys.executable, ACTIONS)


class PolicyServer:
    """A threaded inet policy server on 127.0.0.1: counts connections, keeps every request."""

    def __init__(self, stall=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stall = stall
        self.connections = 0
        self.requests = []
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        f = conn.makefile("rw", newline="\n")
        req = {}
        try:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    k, _, v = line.partition("=")
                    req[k] = v
                    continue
                self.requests.append(req)
                if self.stall:
                    time.sleep(30)
                f.write(answer(req))
                f.flush()
                req = {}
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop = True
        self.sock.close()


def services(port, extra=""):
    return (f"127.0.0.1:{port} inet n - n - - smtpd\n"
            "cleanup unix n - n - 0 cleanup\n"
            "qmgr unix n - n 300 1 qmgr\n"
            "local unix - n n - - local\n"
            "bounce unix - - n - 0 bounce\n"
            "defer unix - - n - 0 bounce\n"
            "error unix - - n - - error\n" + extra)


@pytest.fixture
def inst():
    i = Instance("policy", main_cf={
        "mydestination": "$myhostname, localhost",
        "mynetworks": "127.0.0.1/32",
        "smtpd_policy_service_retry_delay": "0s",
    })
    yield i
    i.cleanup()


def start(inst, restrictions, master_extra="", main_extra=None):
    inst.main["smtpd_recipient_restrictions"] = restrictions
    inst.main.update(main_extra or {})
    inst.write_main_cf()
    inst.write_master_cf(services(inst.smtp_port, master_extra))
    inst.start_master()
    wait_for(lambda: _port_open(inst.smtp_port), what="smtpd listener")


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def mbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def session(inst, source="127.0.0.1", helo="client.test"):
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port, source_address=(source, 0), timeout=60)
    s.ehlo(helo)
    return s


def scripted_checks(inst, s):
    rcpt = f"{inst.user}@localhost"
    assert s.mail("reject@example.org")[0] == 250
    assert s.rcpt(rcpt) == (554, f"5.7.1 <{rcpt}>: Recipient address rejected: go away".encode())
    s.rset()
    assert s.mail("defer@example.org")[0] == 250
    assert s.rcpt(rcpt) == (450, f"4.7.1 <{rcpt}>: Recipient address rejected: try later".encode())
    s.rset()
    assert s.mail("code@example.org")[0] == 250
    assert s.rcpt(rcpt) == (550, f"5.7.23 <{rcpt}>: Recipient address rejected: policy says no"
                            .encode())
    s.rset()
    s.sendmail("dunno@example.org", [rcpt], "Subject: dunno\r\n\r\nbody\r\n")
    s.sendmail("prepend@example.org", [rcpt], "Subject: prepend\r\n\r\nbody\r\n")
    wait_for(lambda: mbox(inst).count("Subject: ") >= 2, timeout=20, what="two deliveries")
    box = mbox(inst)
    dunno, prepend = box.split("Subject: dunno")[0], box.split("Subject: dunno")[1]
    assert "X-Policy:" not in dunno
    assert "\nX-Policy: prepended by the policy server\n" in prepend
    inst.wait_log(f"NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <{rcpt}>: "
                  f"Recipient address rejected: go away; from=<reject@example.org> "
                  f"to=<{rcpt}> proto=ESMTP helo=<client.test>")


@needs_smtpd
def test_inet_policy_server_actions_and_reuse(inst):
    server = PolicyServer()
    try:
        start(inst, f"reject_unauth_destination, check_policy_service inet:127.0.0.1:{server.port}")
        s = session(inst)
        scripted_checks(inst, s)
        s.quit()
        # Five policy requests over one connection (one smtpd process, one session).
        assert len(server.requests) == 5
        assert server.connections == 1
        req = server.requests[0]
        assert req["request"] == "smtpd_access_policy"
        assert req["protocol_state"] == "RCPT"
        assert req["protocol_name"] == "ESMTP"
        assert req["client_address"] == "127.0.0.1"
        assert req["helo_name"] == "client.test"
        assert req["sender"] == "reject@example.org"
        assert req["recipient"] == f"{inst.user}@localhost"
        assert req["recipient_count"] == "0"
        assert req["encryption_keysize"] == "0"
        assert set(req) >= {"client_name", "reverse_client_name", "instance", "size",
                            "queue_id", "sasl_method", "ccert_fingerprint", "server_address",
                            "server_port", "policy_context", "mail_version",
                            "compatibility_level", "stress", "etrn_domain"}
        # A new message has a new instance.
        assert len({r["instance"] for r in server.requests}) == 5
    finally:
        server.close()


@needs_smtpd
def test_policy_server_through_spawn(inst):
    script = inst.root / "policy.py"
    script.write_text(POLICY_SCRIPT)
    os.chmod(script, 0o755)
    start(inst, "reject_unauth_destination, check_policy_service unix:private/policy",
          f"policy unix - n n - 0 spawn user={inst.user} argv={script}\n",
          {"policy_time_limit": "3600s"})
    s = session(inst)
    scripted_checks(inst, s)
    s.quit()
    # One spawned policy process served the whole session.
    assert inst.log().count("warning: problem talking to server") == 0


@needs_smtpd
def test_policy_server_down_default_action(inst):
    port = free_port()
    start(inst, f"reject_unauth_destination, check_policy_service inet:127.0.0.1:{port}")
    rcpt = f"{inst.user}@localhost"
    s = session(inst)
    assert s.mail("dunno@example.org")[0] == 250
    assert s.rcpt(rcpt) == (451, f"4.3.5 <{rcpt}>: Recipient address rejected: Server "
                            "configuration problem".encode())
    s.quit()
    inst.wait_log(f"warning: connect to 127.0.0.1:{port}: Connection refused")
    inst.wait_log(f"warning: problem talking to server 127.0.0.1:{port}: Connection refused")
    # smtpd_policy_service_try_limit = 2
    assert inst.log().count(f"problem talking to server 127.0.0.1:{port}") == 2
    inst.wait_log(f"NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 451 4.3.5 <{rcpt}>: "
                  "Recipient address rejected: Server configuration problem;")


@needs_smtpd
def test_policy_server_stalls_timeout(inst):
    server = PolicyServer(stall=True)
    try:
        start(inst, f"reject_unauth_destination, check_policy_service inet:127.0.0.1:{server.port}",
              main_extra={"smtpd_policy_service_timeout": "2s",
                          "smtpd_policy_service_try_limit": "1",
                          "smtpd_policy_service_default_action": "DUNNO"})
        rcpt = f"{inst.user}@localhost"
        s = session(inst)
        assert s.mail("reject@example.org")[0] == 250
        t0 = time.monotonic()
        assert s.rcpt(rcpt) == (250, b"2.1.5 Ok")  # the default action DUNNO
        assert 1.5 < time.monotonic() - t0 < 10
        s.quit()
        inst.wait_log(f"warning: problem talking to server 127.0.0.1:{server.port}: "
                      "Connection timed out")
    finally:
        server.close()


# ---- SPF with Debian's policyd-spf through spawn (seed 002) --------------------------------

SPF_TEST_CONF = """debugLevel = 1
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.0/24
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="with-test-dns needs root (a mount namespace)")
@pytest.mark.skipif(not WITH_TEST_DNS.exists() or not shutil.which("dnsmasq"),
                    reason="with-test-dns or dnsmasq missing")
@pytest.mark.skipif(not os.path.exists(POLICYD_SPF), reason="postfix-policyd-spf-python missing")
@needs_smtpd
def test_seed002_policyd_spf_under_test_dns():
    if os.environ.get("KESTREL_IN_TEST_DNS"):
        pytest.skip("already inside with-test-dns")
    env = dict(os.environ, KESTREL_IN_TEST_DNS="1")
    r = subprocess.run([str(WITH_TEST_DNS), str(ZONE), sys.executable, "-m", "pytest", "-q",
                        "-p", "no:cacheprovider", f"{__file__}::test_seed002_spf_inner"],
                       capture_output=True, text=True, env=env, timeout=300,
                       cwd=str(REPO / "tests"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout, r.stdout + r.stderr


@pytest.mark.skipif(not os.environ.get("KESTREL_IN_TEST_DNS"),
                    reason="runs under with-test-dns (test_seed002_policyd_spf_under_test_dns)")
def test_seed002_spf_inner(inst):
    # Inside the private mount namespace of with-test-dns: our policyd-spf.conf replaces
    # Debian's for this process tree only (the Debian default skips 127.0.0.0/8).
    conf = inst.root / "policyd-spf.conf"
    conf.write_text(SPF_TEST_CONF)
    subprocess.run(["mount", "--bind", str(conf), SPF_CONF], check=True)
    start(inst, "reject_unauth_destination, check_policy_service unix:private/policyd-spf",
          "policyd-spf  unix  -       n       n       -       0       spawn\n"
          "  user=nobody argv=/usr/bin/policyd-spf\n",
          {"policyd-spf_time_limit": "3600"})
    rcpt = f"{inst.user}@localhost"
    # 127.0.0.2 is authorized by spf.example's record: pass, header prepended.
    s = session(inst, "127.0.0.2", helo="client.test")
    s.sendmail("alice@spf.example", [rcpt], "Subject: spf pass\r\n\r\nbody\r\n")
    s.quit()
    wait_for(lambda: "Subject: spf pass" in mbox(inst), timeout=30, what="delivery")
    box = mbox(inst)
    assert "\nReceived-SPF: Pass (mailfrom) identity=mailfrom; client-ip=127.0.0.2;" in box, box
    assert "envelope-from=<alice@spf.example>" in box or "envelope-from=alice@spf.example" in box
    # 127.0.0.3 is not: fail, rejected with the SPF policy's text.
    s = session(inst, "127.0.0.3", helo="client.test")
    assert s.mail("alice@spf.example")[0] == 250
    code, msg = s.rcpt(rcpt)
    s.quit()
    assert code == 550, msg
    assert msg.startswith(f"5.7.23 <{rcpt}>: Recipient address rejected: Message rejected due "
                          "to: SPF fail - not authorized.".encode()), msg
    inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.3]: 550 5.7.23 ")
