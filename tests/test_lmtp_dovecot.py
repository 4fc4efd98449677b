"""LMTP delivery into a real Dovecot (Debian dovecot-core + dovecot-lmtpd) for a virtual user,
as seed 002 sets it up (`virtual_transport = lmtp:unix:private/dovecot-lmtp`), then the
message read back over IMAP with Python's imaplib."""
import imaplib
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import REPO
from instance import Instance, wait_for
from test_sasl_lib import DOVECOT, free_port, stop, unprivileged

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/lib/dovecot/lmtp"),
                                reason="dovecot-lmtpd is not installed")


def dovecot_conf(base, lmtp_socket, imap_port):
    pw = unprivileged()
    grp = __import__("grp").getgrgid(pw.pw_gid).gr_name
    return f"""
base_dir = {base}/run
state_dir = {base}/state
protocols = imap lmtp
log_path = {base}/dovecot.log
default_internal_user = {pw.pw_name}
default_internal_group = {grp}
default_login_user = {pw.pw_name}
disable_plaintext_auth = no
auth_mechanisms = plain
ssl = no
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={pw.pw_uid} gid={pw.pw_gid} home={base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener {lmtp_socket} {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
"""


def test_lmtp_into_dovecot_then_imap():
    inst = Instance("lmtp", main_cf={
        "virtual_mailbox_domains": "example.test",
        "virtual_transport": "lmtp:unix:private/dovecot-lmtp",
        "mydestination": "localhost"})
    base = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-lmtp-"))
    proc = None
    try:
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir()
        os.chmod(base, 0o755)
        os.chmod(base / "mail", 0o1777)
        (base / "passwd").write_text("alice@example.test:{PLAIN}secret\n")
        imap_port = free_port()
        inst.write_master_cf((REPO / "conf" / "master.cf").read_text().replace(
            "smtp      inet", "#smtp      inet", 1))
        inst.start_master()
        lmtp_socket = inst.spool / "private" / "dovecot-lmtp"
        conf = base / "dovecot.conf"
        conf.write_text(dovecot_conf(base, lmtp_socket, imap_port))
        proc = subprocess.Popen([DOVECOT, "-c", str(conf), "-F"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        wait_for(lambda: lmtp_socket.exists() or proc.poll() is not None, 10, what="dovecot")
        assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
        r = inst.run("sendmail", "-f", "bob@example.org", "alice@example.test",
                     input="Subject: via lmtp\n\nhello alice\n")
        assert r.returncode == 0, r.stderr
        inst.wait_log("status=sent (250 2.0.0 <alice@example.test>", timeout=20)
        assert re.search(r"postfix/lmtp\[\d+\]: \w+: to=<alice@example\.test>, relay=\S*dovecot-lmtp\S*, "
                         r".*dsn=2\.0\.0, status=sent \(250 2\.0\.0 <alice@example\.test>", inst.log())
        imap = imaplib.IMAP4("127.0.0.1", imap_port, timeout=10)
        try:
            imap.login("alice@example.test", "secret")
            typ, data = imap.select("INBOX")
            assert typ == "OK" and int(data[0]) == 1
            typ, msg = imap.fetch("1", "(RFC822)")
            text = msg[0][1].decode()
            assert "Subject: via lmtp" in text and "hello alice" in text
            assert "Return-Path: <bob@example.org>" in text
        finally:
            imap.logout()
    finally:
        if proc:
            stop(proc)
        inst.cleanup()
        shutil.rmtree(base, ignore_errors=True)
