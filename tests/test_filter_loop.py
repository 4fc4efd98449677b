"""End-to-end test of Postfix's classic after-queue SMTP content filter (FILTER_README, the
amavis layout): main.cf `content_filter = smtp-amavis:[127.0.0.1]:PORT1`, an `smtp-amavis`
smtp(8) transport in master.cf, the filter listening on PORT1, and a re-injection smtpd on
127.0.0.1:PORT2 with `-o content_filter=` and
`-o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters`.

The filter is an aiosmtpd server in the test process: it adds `X-Filtered: yes`, re-sends the
message to PORT2 with smtplib and answers 250 with the re-injection's reply (as amavis does).
Checked: one delivery with the header, no loop (exactly two queue IDs: the one smtpd made, and
the one the re-injection made), header_checks PREPEND and the smtpd_milters filter applied
once (not again on re-injection), and a filter that is down leaves the mail deferred
("connect to 127.0.0.1[127.0.0.1]:PORT1: Connection refused") until it is up and `postqueue -f`
runs."""
import asyncio
import re
import smtplib
import subprocess

import pytest

from conftest import REPO
from instance import Instance, free_port, helper_path, wait_for

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

MILTER = helper_path("test_milter")


class Filter:
    """The content filter: X-Filtered: yes on top, re-injected through PORT2, the re-injection's
    reply passed back in the 250 (amavisd-new style)."""

    def __init__(self, reinject_port):
        self.reinject_port = reinject_port
        self.received = []  # (mail_from, rcpt_tos, content) as the filter got them
        self.reinjected = []  # queue IDs the re-injection smtpd answered with

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.reinject, envelope)

    def reinject(self, envelope):
        content = b"X-Filtered: yes\r\n" + envelope.original_content
        try:
            with smtplib.SMTP("127.0.0.1", self.reinject_port, local_hostname="localhost",
                              timeout=30) as s:
                s.ehlo()
                code, msg = s.mail(envelope.mail_from)
                if code != 250:
                    return f"451 4.5.0 re-injection refused MAIL: {code} {msg.decode()}"
                for r in envelope.rcpt_tos:
                    code, msg = s.rcpt(r)
                    if code != 250:
                        return f"451 4.5.0 re-injection refused RCPT: {code} {msg.decode()}"
                code, msg = s.data(content)
        except (OSError, smtplib.SMTPException) as e:
            return f"451 4.5.0 re-injection failed: {e}"
        if code != 250:
            return f"451 4.5.0 re-injection refused DATA: {code} {msg.decode()}"
        m = re.search(r"queued as (\w+)", msg.decode())
        if m:
            self.reinjected.append(m.group(1))
        return f"250 2.0.0 Ok, filtered, from MTA([127.0.0.1]:{self.reinject_port}): " \
               f"{code} {msg.decode()}"


def master_cf(inst, filter_port, reinject_port):
    text = (REPO / "conf" / "master.cf").read_text()
    text = text.replace("smtp      inet", f"127.0.0.1:{inst.smtp_port} inet", 1)
    # FILTER_README / amavisd-new's README.postfix, as seeds write it
    return text + f"""
smtp-amavis unix -      -       n       -       2       smtp
  -o smtp_data_done_timeout=1200
  -o smtp_send_xforward_command=yes
  -o disable_dns_lookups=yes
  -o max_use=20
127.0.0.1:{reinject_port} inet n  -       n       -       -       smtpd
  -o content_filter=
  -o local_recipient_maps=
  -o relay_recipient_maps=
  -o smtpd_restriction_classes=
  -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_data_restrictions=reject_unauth_pipelining
  -o smtpd_end_of_data_restrictions=
  -o mynetworks=127.0.0.0/8
  -o smtpd_error_sleep_time=0
  -o smtpd_soft_error_limit=1001
  -o smtpd_hard_error_limit=1000
  -o smtpd_client_connection_count_limit=0
  -o smtpd_client_connection_rate_limit=0
  -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters
"""


@pytest.fixture
def setup():
    filter_port, reinject_port = free_port(), free_port()
    inst = Instance("filterloop", main_cf={
        "mydestination": "$myhostname, localhost",
        "local_recipient_maps": "",
        "content_filter": f"smtp-amavis:[127.0.0.1]:{filter_port}",
        "header_checks": "",  # set below, once the file exists
        "milter_default_action": "tempfail",
        "milter_command_timeout": "10s",
        "milter_content_timeout": "10s",
    })
    (inst.etc / "header_checks").write_text("/^Subject:/ PREPEND X-Checked: once\n")
    inst.main["header_checks"] = f"regexp:{inst.etc}/header_checks"
    milter_log = inst.root / "milter.log"
    milter_sock = inst.root / "milter.sock"
    milter = subprocess.Popen(inst._as_user([MILTER, f"unix:{milter_sock}", str(milter_log),
                                             "addheader=X-Milter:seen"]))
    wait_for(lambda: milter_sock.exists() and milter_log.exists(), 10, what="test milter up")
    inst.main["smtpd_milters"] = f"unix:{milter_sock}"
    inst.write_main_cf()
    inst.write_master_cf(master_cf(inst, filter_port, reinject_port))
    handler = Filter(reinject_port)
    ctl = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=filter_port,
                                         server_hostname="filter.example.test")
    env = {"inst": inst, "filter": handler, "controller": ctl, "filter_port": filter_port,
           "reinject_port": reinject_port, "milter_log": milter_log, "running": False}
    yield env
    print(inst.log()[-8000:])  # shown by pytest when the test failed
    if env["running"]:
        ctl.stop()
    milter.kill()
    milter.wait()
    inst.cleanup()


def mbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def submit(inst, subject, msgid):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.ehlo("client.example.org")
        s.mail("sender@example.org")
        s.rcpt(f"{inst.user}@localhost")
        code, reply = s.data(f"From: sender@example.org\r\nTo: {inst.user}@localhost\r\n"
                             f"Subject: {subject}\r\nMessage-ID: <{msgid}>\r\n\r\n"
                             f"filter me\r\n".encode())
    assert code == 250, reply
    m = re.search(r"queued as (\w+)", reply.decode())
    assert m, reply
    return m.group(1)


def queue_ids(log, msgid):
    """The queue IDs cleanup logged with this Message-ID, in order."""
    return re.findall(rf"cleanup\[\d+\]: (\w+): message-id=<{re.escape(msgid)}>", log)


def smtpd_pid(log, qid):
    m = re.search(rf"smtpd\[(\d+)\]: {qid}: client=localhost\[127\.0\.0\.1\]$", log, re.M)
    assert m, (qid, log)
    return m.group(1)


def check_delivered_once(env, first, msgid):
    inst, flt = env["inst"], env["filter"]
    wait_for(lambda: "relay=local" in inst.log(), 30, what="local delivery of the re-injected copy")
    wait_for(lambda: inst.log().count(": removed") >= 2, 10, what="both queue files removed")
    log = inst.log()
    # exactly two queue IDs: the one smtpd made for the client, the one the re-injection made
    ids = queue_ids(log, msgid)
    assert len(ids) == 2 and ids[0] == first and ids[1] != first, ids
    second = ids[1]
    assert flt.reinjected == [second]
    assert len(flt.received) == 1  # the filter saw the message once
    # both arrived from localhost over SMTP, through two different smtpd services
    assert smtpd_pid(log, first) != smtpd_pid(log, second)
    assert len(re.findall(r": client=localhost\[127\.0\.0\.1\]$", log, re.M)) == 2
    # the first went to the filter, the second was delivered locally: no loop
    port = env["filter_port"]
    assert re.search(rf"{first}: to=<{inst.user}@localhost>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                     rf"{port}, .*status=sent \(250 2\.0\.0 Ok, filtered, .*queued as {second}\)",
                     log), log
    assert re.search(rf"{second}: to=<{inst.user}@localhost>, relay=local, .*status=sent "
                     rf"\(delivered to mailbox\)", log), log
    assert log.count("relay=local") == 1
    assert log.count(f"relay=127.0.0.1[127.0.0.1]:{port}") == 1
    box = mbox(inst)
    assert box.count("\nFrom ") + box.startswith("From ") == 1
    assert box.count("X-Filtered: yes") == 1
    # header_checks ran on the client's copy only (no_header_body_checks on re-injection)
    assert box.count("X-Checked: once") == 1
    # the milter saw the client's copy only (no_milters on re-injection)
    assert box.count("X-Milter: seen") == 1
    text = env["milter_log"].read_text()
    assert text.count("connect ") == 1 and text.count("\neom") == 1, text
    assert f"macro i={first}" in text and f"macro i={second}" not in text
    # the filter got what cleanup made of the client's message: PREPEND and milter header in it
    content = flt.received[0][2]
    assert b"X-Checked: once" in content and b"X-Milter: seen" in content
    assert b"X-Filtered" not in content
    assert flt.received[0][:2] == ("sender@example.org", [f"{inst.user}@localhost"])
    # nothing left in the queue
    for q in ("incoming", "active", "deferred", "hold"):
        assert [p for p in (inst.spool / q).rglob("*") if p.is_file()] == [], q


def test_filtered_once_without_loop(setup):
    env = setup
    env["controller"].start()
    env["running"] = True
    inst = env["inst"]
    inst.start_master()
    first = submit(inst, "through the filter", "loop-1@example.org")
    check_delivered_once(env, first, "loop-1@example.org")


def test_filter_down_defers_then_flush_delivers(setup):
    env = setup
    inst = env["inst"]
    inst.start_master()
    port = env["filter_port"]
    first = submit(inst, "filter was down", "loop-2@example.org")
    wait_for(lambda: f"{first}: to=" in inst.log(), 30, what="the delivery attempt")
    log = inst.log()
    assert re.search(rf"{first}: to=<{inst.user}@localhost>, relay=none, .*status=deferred "
                     rf"\(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection refused\)",
                     log), log
    wait_for(lambda: [p for p in (inst.spool / "deferred").rglob("*") if p.is_file()], 10,
             what="the deferred queue file")
    assert mbox(inst) == ""
    mailq = inst.run("postqueue", "-p")
    assert first in mailq.stdout, mailq.stdout + mailq.stderr
    assert "Connection refused" in mailq.stdout
    # the filter comes up; a flush delivers the deferred mail through it
    env["controller"].start()
    env["running"] = True
    r = inst.run("postqueue", "-f")
    assert r.returncode == 0, r.stderr
    check_delivered_once(env, first, "loop-2@example.org")
    assert "X-Checked: once" in mbox(inst) and "Subject: filter was down" in mbox(inst)
