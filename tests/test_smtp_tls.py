"""STARTTLS and AUTH in the smtp client, end to end on loopback.

The far side is Debian's Postfix (3.7) configured as a smarthost that requires both TLS
(smtpd_tls_security_level = encrypt) and SASL (smtpd_sasl_type = dovecot against the test
Dovecot of test_sasl_lib.py) before it relays: the test gives it its own config_directory,
queue_directory, data_directory and port in a temp dir, starts it with `postfix -c DIR start`
and stops it with `postfix -c DIR stop`; it never touches /etc/postfix or the system instance.
Postfix delivers into a virtual Maildir that the test reads back. Peers without TLS are
tests/smtp_peer.py. Certificates are made here with the openssl command."""
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from instance import TEST_ROOT, free_port, wait_for
from smtp_peer import Peer
from test_sasl_lib import dovecot, need_dovecot  # noqa: F401 (the Dovecot fixture)
from test_smtp_client import inject, make, start, trigger

POSTFIX = "/usr/sbin/postfix"
PF_DAEMONS = "/usr/lib/postfix/sbin"
BODY = "Subject: relayed\n\nhello through the smarthost\n"

need_postfix = pytest.mark.skipif(
    not os.path.exists(POSTFIX) or not os.path.exists(PF_DAEMONS + "/master")
    or os.geteuid() != 0 or shutil.which("openssl") is None,
    reason="needs Debian postfix, openssl and root")
pytestmark = [need_postfix, need_dovecot]


def ossl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki():
    TEST_ROOT.mkdir(mode=0o755, exist_ok=True)
    d = pathlib.Path(tempfile.mkdtemp(prefix="smtptls-pki-", dir=TEST_ROOT))
    os.chmod(d, 0o755)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=Kestrel Test CA", cwd=d)
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=mail.example.test", cwd=d)
    (d / "server.ext").write_text("subjectAltName=DNS:mail.example.test\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt", cwd=d)
    for f in d.iterdir():
        os.chmod(f, 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


PF_MASTER_CF = """\
{port} inet n - n - - smtpd
{wrap_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


class Smarthost:
    """Debian's Postfix in a temp dir: TLS and SASL required, virtual Maildir for far.test."""

    def __init__(self, pki, auth_socket):
        TEST_ROOT.mkdir(mode=0o755, exist_ok=True)
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="smtptls-postfix-", dir=TEST_ROOT))
        os.chmod(self.root, 0o755)
        self.etc = self.root / "etc"
        self.spool = self.root / "spool"
        self.vmail = self.root / "vmail"
        self.log_path = self.root / "maillog"
        for d in (self.etc, self.spool, self.root / "data", self.vmail):
            d.mkdir()
        pf = pwd.getpwnam("postfix")
        os.chown(self.root / "data", pf.pw_uid, pf.pw_gid)
        os.chown(self.vmail, pf.pw_uid, pf.pw_gid)
        (self.root / "vmailbox").write_text("bob@far.test bob/\n")
        self.port = free_port()
        self.wrap_port = free_port()  # SMTPS (TLS from the first byte), as on port 465
        main = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.spool),
            "data_directory": str(self.root / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "smarthost.test",
            "mydomain": "smarthost.test",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "relayhost": "",
            "biff": "no",
            "maillog_file": str(self.log_path),
            "maillog_file_prefixes": str(TEST_ROOT),
            "virtual_mailbox_domains": "far.test",
            "virtual_mailbox_base": str(self.vmail),
            "virtual_mailbox_maps": f"texthash:{self.root}/vmailbox",
            "virtual_uid_maps": f"static:{pf.pw_uid}",
            "virtual_gid_maps": f"static:{pf.pw_gid}",
            "virtual_minimum_uid": "1",
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_cert_file": str(pki / "server.crt"),
            "smtpd_tls_key_file": str(pki / "server.key"),
            "smtpd_tls_auth_only": "yes",
            "smtpd_tls_loglevel": "1",
            "smtpd_tls_received_header": "yes",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": auth_socket,
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
            "smtpd_recipient_restrictions": "",
        }
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.etc / "master.cf").write_text(PF_MASTER_CF.format(
            port=f"127.0.0.1:{self.port}", wrap_port=f"127.0.0.1:{self.wrap_port}"))

    def postfix(self, *args):
        return subprocess.run([POSTFIX, "-c", str(self.etc), *args], capture_output=True,
                              text=True, timeout=60)

    def master_pid(self):
        try:
            pid = int((self.spool / "pid" / "master.pid").read_text().split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    def start(self):
        r = self.postfix("start")
        assert r.returncode == 0, r.stdout + r.stderr + self.log()

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False
        wait_for(listening, timeout=20, what="Debian postfix smtpd")

    def stop(self):
        pid = self.master_pid()
        if pid:
            self.postfix("stop")
            end = time.monotonic() + 15
            while self.master_pid() and time.monotonic() < end:
                time.sleep(0.1)
            if self.master_pid():
                os.kill(pid, signal.SIGKILL)

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def messages(self):
        new = self.vmail / "bob" / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.exists() else []


def system_postfix_running():
    try:
        pid = int(pathlib.Path("/var/spool/postfix/pid/master.pid").read_text().split()[0])
        os.kill(pid, 0)
        return True
    except (OSError, ValueError, IndexError):
        return False


@pytest.fixture
def smarthost(pki, dovecot):  # noqa: F811
    assert not system_postfix_running()
    s = Smarthost(pki, dovecot["auth"])
    try:
        s.start()
        yield s
    finally:
        s.stop()
        shutil.rmtree(s.root, ignore_errors=True)
        assert not system_postfix_running()


def client(smarthost, pki, password="secret", port=None, **extra):
    """Our instance relaying everything to the smarthost with STARTTLS and AUTH."""
    port = port or smarthost.port
    main = {
        "smtp_tls_security_level": "encrypt",
        "smtp_tls_CAfile": str(pki / "ca.pem"),
        "smtp_tls_loglevel": "1",
        "smtp_sasl_auth_enable": "yes",
        "smtp_sasl_security_options": "noanonymous",
    }
    main.update(extra)
    inst = make(port, **main)
    pw = inst.root / "sasl_passwd"
    pw.write_text(f"[127.0.0.1]:{port} alice:{password}\n")
    os.chmod(pw, 0o644)
    inst.main["smtp_sasl_password_maps"] = f"texthash:{pw}"
    inst.write_main_cf()
    return inst


def relay_line(inst, qid):
    log = inst.log()
    m = re.search(rf"{qid}: to=<bob@far\.test>, relay=(\S+), .*status=(\w+) \((.*)\)", log)
    assert m, log
    return m.groups()


def wait_status(inst, qid, what):
    inst.wait_log(f"{qid}: to=<bob@far.test>", timeout=30)
    return relay_line(inst, qid)


def test_relay_with_starttls_and_auth(smarthost, pki):
    inst = client(smarthost, pki)
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "sent")
        addr = f"127.0.0.1[127.0.0.1]:{smarthost.port}"
        assert relay == addr
        assert status == "sent", text
        m = re.fullmatch(r"250 2\.0\.0 Ok: queued as (\w+)", text)
        assert m, text
        log = inst.log()
        assert re.search(rf"smtp\[\d+\]: Trusted TLS connection established to "
                         rf"{re.escape(addr)}: TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\)", log), log
        # The far side: TLS, AUTH as alice, delivered into the Maildir.
        wait_for(lambda: smarthost.messages(), timeout=20, what="delivery at the smarthost")
        pflog = smarthost.log()
        assert re.search(r"postfix/smtpd\[\d+\]: Anonymous TLS connection established from "
                         r"localhost\[127\.0\.0\.1\]|postfix/smtpd\[\d+\]: \w+ TLS connection "
                         r"established from \S+\[127\.0\.0\.1\]", pflog), pflog
        assert re.search(rf"{m.group(1)}: client=\S+\[127\.0\.0\.1\], sasl_method=PLAIN, "
                         r"sasl_username=alice", pflog), pflog
        msg = smarthost.messages()[0]
        assert b"\nSubject: relayed\n" in msg
        assert msg.endswith(b"\n\nhello through the smarthost\n")
        assert b"(using TLSv1.3 with cipher" in msg  # Postfix's Received: header saw TLS
    finally:
        inst.cleanup()


def test_relay_over_smtps_wrappermode(smarthost, pki):
    # smtp_tls_wrappermode = yes: TLS from the first byte to the smarthost's SMTPS port (no
    # STARTTLS), then AUTH over it.
    inst = client(smarthost, pki, port=smarthost.wrap_port, smtp_tls_wrappermode="yes")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "sent")
        assert relay == f"127.0.0.1[127.0.0.1]:{smarthost.wrap_port}"
        assert status == "sent", text
        assert re.search(r"smtp\[\d+\]: Trusted TLS connection established to ", inst.log())
        wait_for(lambda: smarthost.messages(), timeout=20, what="delivery at the smarthost")
        assert b"(using TLSv1.3 with cipher" in smarthost.messages()[0]
    finally:
        inst.cleanup()


def test_sasl_failure_defers_with_535(smarthost, pki):
    inst = client(smarthost, pki, password="wrong")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "deferred")
        assert status == "deferred"
        assert re.fullmatch(rf"SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] "
                            r"said: 535 5\.7\.8 Error: authentication failed: .*", text), text
        assert re.search(rf"{qid}: to=<bob@far\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{smarthost.port}, .*dsn=4\.7\.8, "
                         r"status=deferred", inst.log()), inst.log()
        assert smarthost.messages() == []
    finally:
        inst.cleanup()


def test_verify_wrong_name_deferred(smarthost, pki):
    # The certificate names mail.example.test; the host name is 127.0.0.1.
    inst = client(smarthost, pki, smtp_tls_security_level="verify")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "deferred")
        assert (status, text) == ("deferred", "Server certificate not verified")
        assert re.search(rf"{qid}: to=<bob@far\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{smarthost.port}, .*dsn=4\.7\.5, "
                         r"status=deferred \(Server certificate not verified\)", inst.log())
        assert smarthost.messages() == []
    finally:
        inst.cleanup()


def test_policy_map_secure_match(smarthost, pki):
    # smtp_tls_policy_maps by the verbatim next hop; match= names the certificate.
    inst = client(smarthost, pki, smtp_tls_security_level="may")
    pol = inst.root / "tls_policy"
    pol.write_text(f"[127.0.0.1]:{smarthost.port} secure match=mail.example.test\n")
    os.chmod(pol, 0o644)
    inst.main["smtp_tls_policy_maps"] = f"texthash:{pol}"
    inst.main["smtp_tls_servername"] = "mail.example.test"
    inst.write_main_cf()
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "sent")
        assert status == "sent", text
        assert re.search(rf"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                         rf"{smarthost.port}: TLSv1\.3 with cipher", inst.log()), inst.log()
        wait_for(lambda: smarthost.messages(), timeout=20, what="delivery at the smarthost")
    finally:
        inst.cleanup()


@pytest.fixture
def plain_peer():
    p = Peer()  # no STARTTLS, no AUTH
    yield p
    p.close()


def test_encrypt_refuses_peer_without_starttls(plain_peer):
    inst = make(plain_peer.port, smtp_tls_security_level="encrypt")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "deferred")
        assert (status, text) == (
            "deferred", "TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]")
        assert re.search(rf"{qid}: to=<bob@far\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{plain_peer.port}, .*dsn=4\.7\.4, "
                         r"status=deferred", inst.log())
        assert plain_peer.messages == []
        assert "MAIL FROM:<alice@example.org>" not in " ".join(plain_peer.commands)
    finally:
        inst.cleanup()


def test_wrappermode_against_a_plaintext_server_defers(plain_peer):
    # A plaintext greeting where a TLS handshake is expected: deferred, nothing sent in clear.
    inst = make(plain_peer.port, smtp_tls_wrappermode="yes", smtp_connect_timeout="5s",
                smtp_starttls_timeout="5s")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "deferred")
        assert status == "deferred" and "Cannot start TLS: handshake failure" in text, text
        assert "smtp_tls_wrappermode requires smtp_tls_security_level = encrypt" in inst.log()
        assert plain_peer.messages == [] and plain_peer.commands == []
    finally:
        inst.cleanup()


def test_may_falls_back_to_plaintext(plain_peer):
    inst = make(plain_peer.port, smtp_tls_security_level="may", smtp_tls_loglevel="1")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "sent")
        assert (status, text) == ("sent", "250 2.0.0 Ok: queued as PEER0")
        assert "TLS connection established" not in inst.log()
        assert [c for c in plain_peer.commands if c.startswith("STARTTLS")] == []
    finally:
        inst.cleanup()


class InjectingPeer:
    """An SMTP server that offers STARTTLS and, in the same write as its "220" to STARTTLS,
    sends a forged reply. A client that kept it would read it as the reply to its EHLO after
    the handshake; ours must discard it. One session, then it stops."""

    def __init__(self, pki):
        import ssl
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(pki / "server.crt"), str(pki / "server.key"))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.commands, self.data, self.error = [], b"", None
        import threading
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            c, _ = self.sock.accept()
            c.settimeout(30)
            f = c.makefile("rwb", buffering=0)
            c.sendall(b"220 inject.test ESMTP\r\n")
            self._dialogue(c, f, tls=False)
        except Exception as e:  # reported by the test
            self.error = repr(e)

    def _dialogue(self, c, f, tls):
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode()
            self.commands.append(("tls " if tls else "") + cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                ext = "250-PIPELINING\r\n250 8BITMIME" if tls else "250-PIPELINING\r\n250 STARTTLS"
                c.sendall(f"250-inject.test\r\n{ext}\r\n".encode())
            elif verb == "STARTTLS" and not tls:
                c.sendall(b"220 2.0.0 Ready to start TLS\r\n554 5.7.1 forged before TLS\r\n")
                t = self.ctx.wrap_socket(c, server_side=True)
                return self._dialogue(t, t.makefile("rwb", buffering=0), tls=True)
            elif verb in ("MAIL", "RCPT"):
                c.sendall(b"250 2.0.0 Ok\r\n")
            elif verb == "DATA":
                c.sendall(b"354 go ahead\r\n")
                while (body := f.readline()) not in (b".\r\n", b""):
                    self.data += body
                c.sendall(b"250 2.0.0 Ok: queued as INJ1\r\n")
            elif verb == "QUIT":
                c.sendall(b"221 2.0.0 Bye\r\n")
                return
            else:
                c.sendall(b"502 5.5.2 Error: command not recognized\r\n")

    def close(self):
        self.sock.close()
        self.thread.join(10)


def test_reply_sent_before_handshake_is_discarded(pki):
    peer = InjectingPeer(pki)
    inst = make(peer.port, smtp_tls_security_level="encrypt", smtp_tls_loglevel="1")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "sent")
        assert (status, text) == ("sent", "250 2.0.0 Ok: queued as INJ1"), peer.error
        assert re.search(rf"Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                         rf"{peer.port}: TLSv1\.3 with cipher", inst.log())
        assert peer.commands[:3] == ["EHLO mail.example.test", "STARTTLS",
                                     "tls EHLO mail.example.test"]
        assert peer.data.endswith(b"\r\nhello through the smarthost\r\n")
    finally:
        inst.cleanup()
        peer.close()


def test_sender_dependent_authentication(smarthost, pki):
    # Only the sender has credentials; the next hop's entry is a wrong password.
    inst = client(smarthost, pki, password="wrong", smtp_sender_dependent_authentication="yes")
    pw = inst.root / "sasl_passwd"
    pw.write_text(pw.read_text() + "alice@example.org alice:secret\n")
    try:
        start(inst)
        qid = inject(inst, "alice@example.org", "bob@far.test", body=BODY)
        trigger(inst)
        relay, status, text = wait_status(inst, qid, "sent")
        assert status == "sent", text
        wait_for(lambda: smarthost.messages(), timeout=20, what="delivery at the smarthost")
        assert re.search(r"sasl_method=PLAIN, sasl_username=alice", smarthost.log())
    finally:
        inst.cleanup()
