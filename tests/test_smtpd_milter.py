"""End-to-end tests of smtpd_milters: the sandbox instance's smtpd with the libmilter test
filter (tests/helpers/test_milter.c). smtpd runs the connect..DATA stages itself and hands the
end of message to cleanup with the filter's connection: one milter session per SMTP session,
each stage's reject/tempfail/discard answered and logged as Postfix does, content edits in the
delivered mail, the default action when the filter is down, and receive_override_options."""
import os
import re
import smtplib
import subprocess
import time

import pytest

from conftest import REPO
from instance import Instance, helper_path, wait_for

MILTER = helper_path("test_milter")
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def shipped_master_cf(port, extra=""):
    text = (REPO / "conf" / "master.cf").read_text()
    return text.replace("smtp      inet", f"127.0.0.1:{port} inet", 1) + extra


@pytest.fixture
def inst():
    i = Instance("smtpdmilter", main_cf={
        "mydestination": "$myhostname, localhost",
        "local_recipient_maps": "",
        "milter_default_action": "tempfail",
        "milter_command_timeout": "5s",
        "milter_content_timeout": "5s",
        "milter_connect_timeout": "5s",
    })
    i.write_master_cf(shipped_master_cf(i.smtp_port))
    i.milters = []
    yield i
    print(i.log()[-6000:])  # shown by pytest when the test failed
    for p in i.milters:
        p.kill()
        p.wait()
    i.cleanup()


def start_milter(inst, actions, inet_port=None):
    n = len(inst.milters)
    log = inst.root / f"milter{n}.log"
    if inet_port:
        lib, endpoint = f"inet:{inet_port}@127.0.0.1", f"inet:127.0.0.1:{inet_port}"
    else:
        path = inst.root / f"milter{n}.sock"
        lib = endpoint = f"unix:{path}"
    p = subprocess.Popen(inst._as_user([MILTER, lib, str(log), actions]))
    inst.milters.append(p)
    wait_for(lambda: log.exists() and "ready" in log.read_text(), what="milter up")
    if inet_port:
        time.sleep(0.3)
    else:
        wait_for(lambda: os.path.exists(endpoint[5:]), what="milter socket")
    return endpoint, log


def start(inst, milters, **extra):
    inst.main["smtpd_milters"] = milters
    inst.main.update(extra)
    inst.write_main_cf()
    inst.start_master()


def mbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def rcpt(inst):
    return f"{inst.user}@localhost"


def queued_id(reply):
    m = re.search(r"queued as ([0-9A-Za-z]+)", reply.decode())
    assert m, reply
    return m.group(1)


def test_one_session_events_macros_and_edits(inst):
    ep, log = start_milter(inst, "addheader=X-Added:yes,chgheader=Subject:changed")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.ehlo("client.example")
        ids = []
        for n in range(2):
            s.mail("sender@example.org", ["SIZE=100"])
            s.rcpt(rcpt(inst))
            code, reply = s.data(f"Subject: hello {n}\r\n\r\nbody {n}\r\n".encode())
            assert code == 250, reply
            ids.append(queued_id(reply))
    wait_for(lambda: mbox(inst).count("X-Added: yes") == 2, 20, what="both delivered")
    box = mbox(inst)
    assert "Subject: changed" in box and "Subject: hello" not in box
    assert "body 0" in box and "body 1" in box
    text = log.read_text()
    # one milter session for the SMTP session: no replayed connect from cleanup
    assert text.count("connect ") == 1, text
    assert "macro {daemon_addr}=127.0.0.1" in text
    assert re.search(r"macro _=\S+ \[127\.0\.0\.1\]", text)
    assert "helo client.example" in text
    assert text.count("mail <sender@example.org>") == 2
    assert "mail arg SIZE=100" in text
    assert text.count(f"rcpt <{rcpt(inst)}>") == 2
    assert text.count("\ndata\n") == 2
    assert "header Subject: hello 0" in text and "header Subject: hello 1" in text
    assert text.count("\neom") == 2
    for qid in ids:  # {i} is the queue ID at MAIL (smtpd) and at end of message (cleanup)
        assert text.count(f"macro i={qid}") >= 2, (qid, text)
    # the session ends with QUIT to the filter after smtpd closes: the filter sees close
    wait_for(lambda: "close" in log.read_text(), 10, what="milter close")


def test_stage_rejects_are_answered_and_logged(inst):
    ep, log = start_milter(inst, "rejectmail=bad@,rejectrcpt=nobody-here@")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.ehlo("client.example")
        code, msg = s.mail("bad@example.org")
        assert (code, msg) == (553, b"5.7.1 Sender refused")
        assert s.mail("good@example.org")[0] == 250
        code, msg = s.rcpt("nobody-here@localhost")
        assert (code, msg) == (550, b"5.1.1 No such user here")
        assert s.rcpt(rcpt(inst))[0] == 250
        code, reply = s.data(b"Subject: after rejects\r\n\r\nok\r\n")
        assert code == 250, reply
    wait_for(lambda: "Subject: after rejects" in mbox(inst), 20, what="delivery")
    logtext = inst.log()
    assert re.search(r"NOQUEUE: milter-reject: MAIL from \S+\[127\.0\.0\.1\]: 553 5\.7\.1 Sender "
                     r"refused; from=<bad@example\.org> proto=ESMTP helo=<client\.example>",
                     logtext), logtext
    assert re.search(r": milter-reject: RCPT from \S+\[127\.0\.0\.1\]: 550 5\.1\.1 No such user "
                     r"here; from=<good@example\.org> to=<nobody-here@localhost> proto=ESMTP",
                     logtext), logtext


def test_reject_at_connect_answered_at_mail(inst):
    # As in Postfix: the greeting goes out; MAIL FROM (every one) gets the filter's reply.
    ep, _ = start_milter(inst, "rejectconnect")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        assert s.ehlo("client.example")[0] == 250
        for _ in range(2):
            assert s.mail("sender@example.org") == (554, b"5.7.1 Go away")
    assert re.search(r"NOQUEUE: milter-reject: CONNECT from \S+\[127\.0\.0\.1\]: 554 5\.7\.1 Go "
                     r"away; proto=SMTP", inst.log()), inst.log()


def test_reject_at_helo_answered_at_mail(inst):
    ep, _ = start_milter(inst, "rejecthelo")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        assert s.ehlo("evil.example")[0] == 250
        assert s.mail("sender@example.org") == (550, b"5.7.1 Bad HELO")
    assert re.search(r"milter-reject: EHLO from \S+\[127\.0\.0\.1\]: 550 5\.7\.1 Bad HELO; "
                     r"proto=ESMTP helo=<evil\.example>", inst.log()), inst.log()


def test_tempfail_at_data_and_unknown_command(inst):
    ep, _ = start_milter(inst, "tempfaildata,rejectunknown")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.ehlo("client.example")
        code, msg = s.docmd("XYZZY", "plugh")
        assert (code, msg) == (502, b"5.5.2 Not that either")
        s.mail("sender@example.org")
        s.rcpt(rcpt(inst))
        code, msg = s.docmd("DATA")
        assert (code, msg) == (451, b"4.7.1 Service unavailable - try again later")
        assert s.rset()[0] == 250
    assert "milter-reject: DATA from" in inst.log()
    time.sleep(0.5)
    assert mbox(inst) == ""
    for q in ("incoming", "active", "deferred"):  # the refused transaction left no queue file
        assert [p for p in (inst.spool / q).rglob("*") if p.is_file()] == [], q


def test_end_of_message_reject_eicar_nothing_queued(inst):
    ep, log = start_milter(inst, "eicar-reject")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.mail("sender@example.org")
        s.rcpt(rcpt(inst))
        code, msg = s.data(f"Subject: virus\r\n\r\n{EICAR}\r\n".encode())
        assert code == 550 and b"5.7.1" in msg, (code, msg)
        s.mail("sender@example.org")
        s.rcpt(rcpt(inst))
        code, msg = s.data(b"Subject: clean\r\n\r\nclean body\r\n")
        assert code == 250, msg
    wait_for(lambda: "Subject: clean" in mbox(inst), 20, what="clean delivery")
    assert "Subject: virus" not in mbox(inst)
    logtext = inst.log()
    assert re.search(r"\w+: milter-reject: END-OF-MESSAGE from \S+\[127\.0\.0\.1\]: 5\.7\.1 .*; "
                     r"from=<sender@example\.org> to=<\S+> proto=SMTP$", logtext, re.M), logtext
    for q in ("incoming", "active", "deferred", "hold"):
        assert [p for p in (inst.spool / q).rglob("*") if p.is_file()] == [], q


def test_seed_clamav_style_inet_accept_and_tag(inst):
    # Seed 002 (Ubuntu): milter_default_action = accept, smtpd_milters = inet:PORT
    port = inst.free_port() if hasattr(inst, "free_port") else None
    from instance import free_port
    port = port or free_port()
    _, log = start_milter(inst, "eicar-tag", inet_port=port)
    start(inst, f"inet:{port}", milter_default_action="accept")
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.sendmail("sender@example.org", [rcpt(inst)], f"Subject: eicar\r\n\r\n{EICAR}\r\n")
        s.sendmail("sender@example.org", [rcpt(inst)], "Subject: plain\r\n\r\nplain\r\n")
    wait_for(lambda: mbox(inst).count("X-Virus-Status:") == 2, 20, what="both tagged")
    box = mbox(inst)
    assert "X-Virus-Status: Infected" in box and "X-Virus-Status: Clean" in box


def test_discard_at_mail_stage(inst):
    ep, _ = start_milter(inst, "discardmail=spammer@")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.mail("spammer@example.org")
        s.rcpt(rcpt(inst))
        code, reply = s.data(b"Subject: discard me\r\n\r\nx\r\n")
        assert code == 250 and b"queued as" in reply
        s.sendmail("fine@example.org", [rcpt(inst)], "Subject: keep me\r\n\r\nx\r\n")
    wait_for(lambda: "Subject: keep me" in mbox(inst), 20, what="delivery")
    assert "discard me" not in mbox(inst)
    assert re.search(r"milter-discard: MAIL from \S+\[127\.0\.0\.1\]: milter triggers DISCARD "
                     r"action; from=<spammer@example\.org>", inst.log())


def test_quarantine_goes_to_hold(inst):
    ep, _ = start_milter(inst, "quarantine=suspicious")
    start(inst, ep)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.sendmail("sender@example.org", [rcpt(inst)], "Subject: hold me\r\n\r\nx\r\n")
    wait_for(lambda: [p for p in (inst.spool / "hold").rglob("*") if p.is_file()], 10,
             what="hold queue file")
    assert "milter-hold: END-OF-MESSAGE from" in inst.log()


@pytest.mark.parametrize("action", ["accept", "tempfail", "reject"])
def test_milter_down_default_action(inst, action):
    start(inst, f"unix:{inst.root}/nothing-here.sock", milter_default_action=action)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        assert s.ehlo("client.example")[0] == 250
        code, msg = s.mail("sender@example.org")
        if action == "accept":
            assert code == 250
            s.rcpt(rcpt(inst))
            assert s.data(b"Subject: no filter\r\n\r\nx\r\n")[0] == 250
        elif action == "tempfail":
            assert (code, msg) == (451, b"4.7.1 Service unavailable - try again later")
        else:
            assert (code, msg) == (550, b"5.7.1 Command rejected")
    if action == "accept":
        wait_for(lambda: "Subject: no filter" in mbox(inst), 20, what="delivery")
    assert re.search(r"warning: milter unix:\S+nothing-here\.sock: .*-- applying default action "
                     + action, inst.log()), inst.log()


def test_receive_override_no_milters_on_second_service(inst):
    from instance import free_port
    port2 = free_port()
    ep, log = start_milter(inst, "addheader=X-Filtered:yes")
    inst.write_master_cf(shipped_master_cf(
        inst.smtp_port,
        f"127.0.0.1:{port2} inet n - n - - smtpd\n"
        "  -o receive_override_options=no_milters,no_header_body_checks,no_address_mappings\n"))
    (inst.etc / "header_checks").write_text("/^Subject: forbidden/ REJECT no such subjects\n")
    (inst.etc / "canonical").write_text(f"alias-of-user@localhost {inst.user}@localhost\n")
    assert inst.run("postmap", f"hash:{inst.etc}/canonical").returncode == 0
    start(inst, ep, header_checks=f"regexp:{inst.etc}/header_checks",
          canonical_maps=f"hash:{inst.etc}/canonical")
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("a@example.org", [rcpt(inst)], "Subject: forbidden\r\n\r\nx\r\n")
        assert e.value.smtp_code == 550 and b"no such subjects" in e.value.smtp_error
    with smtplib.SMTP("127.0.0.1", port2, timeout=20) as s:
        s.sendmail("a@example.org", [rcpt(inst)], "Subject: forbidden\r\nTo: alias-of-user@localhost"
                   "\r\n\r\nreinjected\r\n")
    wait_for(lambda: "reinjected" in mbox(inst), 20, what="delivery through the second service")
    box = mbox(inst)
    assert "X-Filtered" not in box           # no_milters
    assert "To: alias-of-user@localhost" in box  # no_address_mappings
    assert log.read_text().count("connect ") == 1  # only the first service's session


def test_smtpd_milter_maps_per_client(inst):
    # 127.0.0.2 gets DISABLE, 127.0.0.3 gets its own filter instead of smtpd_milters
    ep1, log1 = start_milter(inst, "addheader=X-Default:yes")
    ep2, log2 = start_milter(inst, "addheader=X-Special:yes")
    (inst.etc / "milter_map").write_text(f"127.0.0.2 DISABLE\n127.0.0.3 {ep2}\n")
    start(inst, ep1, smtpd_milter_maps=f"cidr:{inst.etc}/milter_map")
    for src, subject in (("127.0.0.1", "one"), ("127.0.0.2", "two"), ("127.0.0.3", "three")):
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20,
                          source_address=(src, 0)) as s:
            s.sendmail("a@example.org", [rcpt(inst)], f"Subject: {subject}\r\n\r\nx\r\n")
    wait_for(lambda: mbox(inst).count("Subject: ") == 3, 20, what="three delivered")
    msgs = mbox(inst).split("\nFrom ")
    by_subject = {re.search(r"Subject: (\w+)", m).group(1): m for m in msgs}
    assert "X-Default: yes" in by_subject["one"] and "X-Special" not in by_subject["one"]
    assert "X-Default" not in by_subject["two"] and "X-Special" not in by_subject["two"]
    assert "X-Special: yes" in by_subject["three"] and "X-Default" not in by_subject["three"]


def test_added_recipient_with_esmtp_args_is_added_args_ignored(inst):
    ep, _ = start_milter(inst, "addrcpt_par=extra@localhost")
    start(inst, ep, local_recipient_maps="", alias_maps="", luser_relay="")
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.sendmail("a@example.org", [rcpt(inst)], "Subject: plus one\r\n\r\nx\r\n")
    wait_for(lambda: "to=<extra@localhost>" in inst.log(), 20, what="delivery to the added one")
    assert re.search(r'milter: ignoring ESMTP arguments "NOTIFY=NEVER" of added recipient '
                     r'<extra@localhost>', inst.log()), inst.log()
