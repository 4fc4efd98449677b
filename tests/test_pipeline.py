"""End-to-end tests of the whole mail pipeline under a sandbox master running the shipped
master.cf: sendmail → postdrop → pickup → cleanup → qmgr → local (and bounce), and smtpd for
the network side; the queue tools on real queued mail; pflogsumm over the resulting log."""
import email
import os
import re
import shutil
import signal
import smtplib
import subprocess
import time

import pytest

from conftest import REPO
from instance import Instance, wait_for


def shipped_master_cf(port):
    text = (REPO / "conf" / "master.cf").read_text()
    return text.replace("smtp      inet", f"127.0.0.1:{port} inet", 1)


@pytest.fixture
def inst():
    i = Instance("pipeline", main_cf={
        "mydestination": "$myhostname, localhost",
        "myorigin": "$myhostname",
        "alias_maps": "hash:$config_directory/aliases",
        "alias_database": "hash:$config_directory/aliases",
        "queue_run_delay": "300s",
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "600s",
    })
    i.fwd = i.root / "forward"
    i.out = i.root / "out"
    for d in (i.fwd, i.out):
        d.mkdir()
    i.main["forward_path"] = f"{i.fwd}/$user.forward"
    i.write_main_cf()
    i.write_aliases = lambda text: _write_aliases(i, text)
    i.write_aliases("")
    i.write_master_cf(shipped_master_cf(i.smtp_port))
    yield i
    i.cleanup()


def _write_aliases(inst, text):
    (inst.etc / "aliases").write_text(f"postmaster: {inst.user}\n" + text)
    if os.geteuid() == 0:
        os.chown(inst.etc / "aliases", inst.pw.pw_uid, inst.pw.pw_gid)
    for d in (inst.out, inst.fwd):
        if os.geteuid() == 0:
            os.chown(d, inst.pw.pw_uid, inst.pw.pw_gid)
    r = inst.run("postalias", f"hash:{inst.etc}/aliases")
    assert r.returncode == 0, r.stderr


def mbox(inst, user=None):
    path = inst.mail / (user or inst.user)
    return path.read_text() if path.exists() else ""


def wait_delivered(inst, count, user=None, timeout=20):
    wait_for(lambda: mbox(inst, user).count("\nFrom ") + mbox(inst, user).startswith("From ")
             >= count, timeout, what=f"{count} messages in the mailbox")


def sendmail(inst, *args, text):
    r = inst.run("sendmail", *args, input=text)
    assert r.returncode == 0, r.stderr
    return r


def queue_ids(inst, queue):
    return sorted(p.name for p in (inst.spool / queue).rglob("*") if p.is_file())


def test_sendmail_to_mbox_with_headers(inst):
    inst.start_master()
    sendmail(inst, "-f", "alice@example.org", inst.user,
             text="Subject: hello\n\nfirst line\nFrom the start\n")
    wait_delivered(inst, 1)
    box = mbox(inst)
    assert box.startswith("From alice@example.org ")
    msg = email.message_from_string(box.split("\n", 1)[1])
    assert msg["Return-Path"] == "<alice@example.org>"
    assert msg["Delivered-To"] == f"{inst.user}@mail.example.test"
    assert msg["X-Original-To"] == inst.user  # as submitted, like Postfix (orig_to=<user>)
    assert msg["Subject"] == "hello"
    assert msg["Message-Id"].endswith("@mail.example.test>")
    assert msg["Date"]
    assert re.match(r"by mail\.example\.test \(Kestrel, from userid \d+\)", msg["Received"])
    assert "\n>From the start\n" in box  # mbox From_ quoting
    log = inst.log()
    qid = re.search(r"postfix/pickup\[\d+\]: (\w+): uid=\d+ from=<alice@example.org>", log)[1]
    assert re.search(rf"postfix/cleanup\[\d+\]: {qid}: message-id=<", log)
    assert re.search(rf"postfix/qmgr\[\d+\]: {qid}: from=<alice@example.org>, size=\d+, "
                     r"nrcpt=1 \(queue active\)", log)
    assert re.search(rf"postfix/local\[\d+\]: {qid}: to=<{inst.user}@mail.example.test>, "
                     rf"orig_to=<{inst.user}>, relay=local, delay=[\d.]+, "
                     r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                     r"status=sent \(delivered to mailbox\)", log)
    inst.wait_log(f"{qid}: removed")


def test_sendmail_t_into_maildir(inst):
    inst.main["mail_spool_directory"] = f"{inst.mail}/"
    inst.write_main_cf()
    inst.start_master()
    sendmail(inst, "-t", "-f", "bob@example.org",
             text=f"To: {inst.user}@localhost\nBcc: {inst.user}@localhost\nSubject: md\n\nbody\n")
    new = inst.mail / inst.user / "new"
    wait_for(lambda: new.exists() and list(new.iterdir()), what="a Maildir message")
    files = list(new.iterdir())
    assert len(files) == 1  # a duplicate recipient is delivered once
    msg = email.message_from_string(files[0].read_text())
    assert msg["Subject"] == "md" and msg["Bcc"] is None
    assert msg["Return-Path"] == "<bob@example.org>"
    assert not list((inst.mail / inst.user / "tmp").iterdir())


def test_aliases_with_several_targets_and_forward(inst):
    a, j = inst.out / "ataylor", inst.out / "jsmith"
    inst.write_aliases(f"root: ataylor,jsmith\nataylor: {a}\njsmith: {j}\n")
    (inst.fwd / f"{inst.user}.forward").write_text(f"{inst.out}/forwarded\n")
    if os.geteuid() == 0:
        os.chown(inst.fwd / f"{inst.user}.forward", inst.pw.pw_uid, inst.pw.pw_gid)
    inst.start_master()
    sendmail(inst, "root", text="Subject: to root\n\nx\n")
    sendmail(inst, inst.user, text="Subject: to forward\n\ny\n")
    wait_for(lambda: a.exists() and j.exists() and (inst.out / "forwarded").exists(),
             what="alias and .forward deliveries")
    for f in (a, j):
        text = f.read_text()
        assert "Subject: to root" in text and "\nX-Original-To: root\n" in text
    assert "Subject: to forward" in (inst.out / "forwarded").read_text()
    assert "Subject: to forward" not in mbox(inst)


def test_unknown_user_bounces_with_dsn(inst):
    inst.start_master()
    sendmail(inst, "-f", f"{inst.user}@mail.example.test", "nosuchuser@localhost",
             text="Subject: lost\n\nwhere\n")
    wait_delivered(inst, 1)
    box = mbox(inst)
    msg = email.message_from_string(box.split("\n", 1)[1])
    assert msg["Return-Path"] == "<>"
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    status = parts[1].get_payload()
    fields = "\n".join(str(p) for p in status)
    assert "Final-Recipient: rfc822; nosuchuser@localhost" in fields
    assert "Action: failed" in fields and "Status: 5.1.1" in fields
    assert "Subject: lost" in str(parts[2])
    log = inst.log()
    assert re.search(r"to=<nosuchuser@localhost>, relay=local, .* dsn=5\.1\.1, "
                     r"status=bounced \(unknown user: \"nosuchuser\"\)", log)
    assert re.search(r": sender non-delivery notification: \w+", log)


def test_deferral_then_flush(inst):
    flag, out = inst.out / "flag", inst.out / "cmd"
    inst.write_aliases(f'later: "|test -e {flag} || exit 75; cat > {out}"\n')
    inst.start_master()
    sendmail(inst, "later", text="Subject: retry\n\nz\n")
    inst.wait_log("status=deferred")
    wait_for(lambda: queue_ids(inst, "deferred"), what="a deferred message")
    listing = inst.run("postqueue", "-p").stdout
    assert re.search(r"^\w+\s+\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d  \S+\n\(.*\)\n\s+later@",
                     listing, re.M), listing
    assert listing.rstrip().endswith("-- 0 Kbytes in 1 Request.") or "in 1 Request" in listing
    flag.write_text("")
    r = inst.run("postqueue", "-f")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: out.exists(), what="delivery after postqueue -f")
    assert "Subject: retry" in out.read_text()
    wait_for(lambda: not queue_ids(inst, "deferred"), what="an empty deferred queue")
    assert "Mail queue is empty" in inst.run("postqueue", "-p").stdout


def test_hold_release_and_delete_deferred(inst):
    inst.write_aliases('never: "|exit 75"\n')
    inst.start_master()
    sendmail(inst, "never", text="Subject: a\n\n1\n")
    sendmail(inst, "never", text="Subject: b\n\n2\n")
    wait_for(lambda: len(queue_ids(inst, "deferred")) == 2, what="two deferred messages")
    r = inst.run("postsuper", "-h", "ALL")
    assert "postsuper: Placed on hold: 2 messages" in r.stderr
    assert len(queue_ids(inst, "hold")) == 2 and not queue_ids(inst, "deferred")
    assert inst.run("postqueue", "-p").stdout.count("!") == 2
    r = inst.run("postsuper", "-H", "ALL")
    assert "postsuper: Released from hold: 2 messages" in r.stderr
    wait_for(lambda: len(queue_ids(inst, "deferred")) == 2, what="released messages")
    r = inst.run("postsuper", "-d", "ALL", "deferred")
    assert "postsuper: Deleted: 2 messages" in r.stderr
    assert not queue_ids(inst, "deferred")


def test_smtp_to_local_and_pflogsumm(inst):
    inst.start_master()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
        for n in range(3):
            s.sendmail("carol@example.org", [f"{inst.user}@localhost"],
                       f"Subject: smtp {n}\r\n\r\nbody {n}\r\n")
    sendmail(inst, inst.user, text="Subject: local\n\nl\n")
    wait_delivered(inst, 4)
    wait_for(lambda: inst.log().count(": removed") >= 4, what="four removals")
    if not shutil.which("pflogsumm"):
        pytest.skip("pflogsumm is not installed")
    r = subprocess.run(["pflogsumm", "--detail", "0", str(inst.log_path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s+4\s+received", r.stdout, re.M), r.stdout
    assert re.search(r"^\s+4\s+delivered", r.stdout, re.M), r.stdout


def submit_smtp(inst, text):
    """One message over SMTP; False on a temporary failure (a 4xx or a lost connection)."""
    try:
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
            s.sendmail("load@example.org", [f"{inst.user}@localhost"],
                       text.replace("\n", "\r\n"))
        return True
    except (smtplib.SMTPException, OSError):
        return False


@pytest.mark.parametrize("victim", ["qmgr", "local", "cleanup", "pickup"])
def test_kill_9_loses_nothing(inst, victim):
    """Messages keep arriving while one daemon is killed with SIGKILL again and again; after the
    dust settles every message is delivered (duplicates only for deliveries in flight).
    A daemon killed before it served anyone throttles its service (master's start-up failure
    rule), so the throttle time is short here."""
    inst.main["service_throttle_time"] = "1s"
    # Maildir: a killed mbox writer leaves a dot-lock that holds off deliveries for
    # stale_lock_time, which is right but would make this test slow.
    inst.main["mail_spool_directory"] = f"{inst.mail}/"
    inst.write_main_cf()
    new = inst.mail / inst.user / "new"
    inst.start_master()
    total = 250  # 1,000 messages over the four daemons
    killer_done = []

    def kill_loop():
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and len(killer_done) == 0:
            for pid, _, _ in inst.children(victim):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    import threading
    t = threading.Thread(target=kill_loop)
    t.start()
    try:
        for n in range(total):
            text = f"Message-ID: <m{n}@test>\nSubject: n{n}\n\nx\n"
            for attempt in range(20):  # like a real client: retry after a temporary failure
                if n % 2 == 0 and submit_smtp(inst, text):
                    break
                if n % 2 == 1 and inst.run("sendmail", inst.user, input=text).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"message {n} was never accepted")
    finally:
        killer_done.append(1)
        t.join()
    # Recovery: a flush retries whatever a killed agent left deferred.
    def all_there():
        inst.run("postqueue", "-f")
        box = "".join(p.read_text() for p in new.iterdir()) if new.exists() else ""
        return all(f"<m{n}@test>" in box for n in range(total))
    wait_for(all_there, timeout=120, interval=1, what=f"all {total} messages delivered")
    assert f"process" in inst.log()  # the kills were noticed by master


def test_dsn_notify_never_and_no_bounce_of_a_bounce(inst):
    inst.start_master()
    sendmail(inst, "-N", "never", "-f", f"{inst.user}@mail.example.test", "ghost1@localhost",
             text="Subject: quiet\n\nq\n")
    sendmail(inst, "-f", "", "ghost2@localhost", text="Subject: from null\n\nn\n")
    sendmail(inst, "-f", f"{inst.user}@mail.example.test", "ghost3@localhost",
             text="Subject: loud\n\nl\n")
    wait_delivered(inst, 1)  # only the third one bounces back
    wait_for(lambda: inst.log().count(": removed") >= 4, what="every message finished")
    time.sleep(0.5)
    box = mbox(inst)
    assert box.count("\nFrom ") + box.startswith("From ") == 1
    assert "ghost3@localhost" in box and "ghost1" not in box and "ghost2" not in box
    assert inst.log().count("sender non-delivery notification") == 1


def test_delay_warning(inst):
    inst.main["delay_warning_time"] = "1s"
    inst.write_main_cf()
    inst.write_aliases('slow: "|exit 75"\n')
    inst.start_master()
    sendmail(inst, "-f", f"{inst.user}@mail.example.test", "slow", text="Subject: slow\n\ns\n")
    inst.wait_log("status=deferred")
    time.sleep(1.5)
    inst.run("postqueue", "-f")
    wait_delivered(inst, 1)
    msg = email.message_from_string(mbox(inst).split("\n", 1)[1])
    assert msg.get_content_type() == "multipart/report"
    fields = "\n".join(str(p) for p in msg.get_payload()[1].get_payload())
    assert "Action: delayed" in fields and "Status: 4." in fields
    assert "sender delay notification" in inst.log()
    assert queue_ids(inst, "deferred")  # the message itself is still queued


def test_refused_local_mail_is_returned_to_sender(inst):
    """Local submissions that cleanup refuses for good (here: header_checks REJECT) cannot get
    an SMTP reply; they come back to the sender as a delivery status notification, and nothing
    is left in maildrop. A message over message_size_limit is refused by sendmail itself."""
    (inst.etc / "header_checks").write_text("/^Subject: forbidden/ REJECT no such subjects\n")
    inst.main["header_checks"] = f"regexp:{inst.etc}/header_checks"
    inst.main["message_size_limit"] = "2000"
    inst.write_main_cf()
    inst.start_master()
    sendmail(inst, "-f", f"{inst.user}@mail.example.test", "someone@localhost",
             text="Subject: forbidden fruit\n\nx\n")
    r = inst.run("sendmail", "someone@localhost", input="Subject: huge\n\n" + "y" * 3000 + "\n")
    assert r.returncode == 65 and "message too large" in r.stderr
    wait_delivered(inst, 1)
    box = mbox(inst)
    assert "5.7.1" in box and "no such subjects" in box and "Subject: forbidden fruit" in box
    assert not queue_ids(inst, "maildrop")
    assert inst.log().count("returned to sender") == 1
