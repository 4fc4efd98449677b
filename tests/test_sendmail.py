"""End-to-end tests of local submission: sendmail (and its -bs, -bi personalities) writing
maildrop files through postdrop, and pickup under a sandbox master handing them to cleanup."""
import os
import stat

import pytest

from instance import Instance, wait_for

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer",
          "trace", "public", "private", "pid")


def make_instance(extra=None, master_cf=""):
    main = {"myorigin": "example.test", "mydomain": "example.test"}
    main.update(extra or {})
    inst = Instance("submit", main_cf=main)
    for d in QUEUES:
        (inst.spool / d).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(inst.spool / d, inst.pw.pw_uid, inst.pw.pw_gid)
    inst.write_master_cf(master_cf)
    return inst


@pytest.fixture
def inst():
    i = make_instance()
    yield i
    i.cleanup()


def read_records(path):
    """The records of a queue or maildrop file as (type, data) pairs."""
    data = path.read_bytes()
    out, i = [], 0
    while i < len(data):
        t = chr(data[i])
        colon = data.index(b":", i)
        n = int(data[i + 1:colon])
        out.append((t, data[colon + 1:colon + 1 + n].decode()))
        assert data[colon + 1 + n:colon + 2 + n] == b"\n"
        i = colon + 2 + n
    return out


def maildrop(inst):
    return sorted(p for p in (inst.spool / "maildrop").iterdir())


def only_file(inst):
    files = maildrop(inst)
    assert len(files) == 1, files
    return files[0]


def test_t_without_recipients_fails_and_writes_nothing(inst):
    r = inst.run("sendmail", "-t", input="Subject: no rcpt\n\nbody\n")
    assert r.returncode == 64
    assert f"sendmail: fatal: {inst.user}({inst.pw.pw_uid}): " \
           "No recipient addresses found in message header" in r.stderr
    assert maildrop(inst) == []


def test_no_recipients_without_t_is_a_usage_error(inst):
    r = inst.run("sendmail", input="Subject: x\n\n")
    assert r.returncode == 64
    assert "Recipient addresses must be specified on the command line or via the -t option" \
        in r.stderr


def test_sendmail_writes_maildrop_file(inst):
    r = inst.run("sendmail", "-F", "Joe User", "user@example.com, other",
                 input="From someone Mon Jan  1 00:00:00 2024\r\nSubject: hi\r\n\r\n"
                       "body\r\n.\r\nnot read\n")
    assert r.returncode == 0, r.stderr
    path = only_file(inst)
    assert stat.S_IMODE(path.stat().st_mode) == 0o744
    assert read_records(path) == [
        ("F", inst.user), ("A", "fullname=Joe User"), ("A", "rewrite_context=local"),
        ("R", "user@example.com"), ("R", "other"), ("M", ""),
        ("L", "Subject: hi"), ("L", ""), ("L", "body"), ("X", ""), ("E", "")]


def test_dash_i_keeps_lone_dot_and_dsn_options(inst):
    r = inst.run("sendmail", "-i", "-f", "sender@example.org", "-N", "success,failure",
                 "-R", "hdrs", "-V", "env42", "-t", "extra@example.net",
                 input="To: a@example.com\nSubject: x\n\n.\nafter\n")
    assert r.returncode == 0, r.stderr
    assert read_records(only_file(inst)) == [
        ("F", "sender@example.org"), ("A", "rewrite_context=local"), ("A", "dsn_envid=env42"),
        ("A", "dsn_ret=HDRS"), ("A", "submit_flags=16"), ("N", "6"),  # SUCCESS|FAILURE (dsn.h)
        ("R", "extra@example.net"), ("M", ""), ("L", "To: a@example.com"), ("L", "Subject: x"),
        ("L", ""), ("L", "."), ("L", "after"), ("X", ""), ("E", "")]


def test_long_lines_are_split(inst):
    inst.main["line_length_limit"] = "10"
    inst.write_main_cf()
    r = inst.run("sendmail", "u", input="Subject: x\n\n" + "a" * 25 + "\nend")
    assert r.returncode == 0, r.stderr
    recs = read_records(only_file(inst))
    assert recs[recs.index(("M", "")) + 1:] == [
        ("L", "Subject: x"), ("L", ""), ("P", "a" * 10), ("P", "a" * 10), ("L", "a" * 5),
        ("L", "end"), ("X", ""), ("E", "")]


@pytest.mark.parametrize("sender", ["a\nb@example.com", "a\rb", "x\n"])
def test_sender_with_line_break_is_refused(inst, sender):
    r = inst.run("sendmail", "-f", sender, "user", input="Subject: x\n\n")
    assert r.returncode == 64
    assert "sendmail: fatal: -f option: bad sender address" in r.stderr
    assert maildrop(inst) == []


def test_postdrop_refuses_bad_records(inst):
    bad = b"F1:a\nV1:1\nM0:\nX0:\nE0:\n"
    r = inst.run("postdrop", "-r", input=bad.decode())
    assert r.returncode != 0
    assert "malformed input: unexpected record type 'V'" in r.stderr
    assert maildrop(inst) == []
    r = inst.run("postdrop", "-r", input="F1:a\nR1:b\nM0:\nL2:x\n")
    assert r.returncode == 65 and "malformed input: missing record terminator" in r.stderr
    assert maildrop(inst) == []
    r = inst.run("postdrop", "-r", input="F3:a\rb\nR1:b\nM0:\nX0:\nE0:\n")
    assert "control character in envelope record" in r.stderr
    assert maildrop(inst) == []


def test_bs_smtp_dialogue(inst):
    session = ("EHLO client\r\nDATA\r\nMAIL FROM:<s@example.org>\r\nMAIL FROM:<x@y>\r\n"
               "RCPT TO:<r@example.com>\r\nDATA\r\nSubject: smtp\r\n\r\n..dotted\r\n.\r\n"
               "NOOP\r\nBOGUS\r\nQUIT\r\n")
    r = inst.run("sendmail", "-bs", input=session)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")  # text mode turned CRLF into LF
    assert lines[0].startswith("220 mail.example.test ESMTP ")
    assert lines[1:7] == ["250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000",
                          "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 DSN"]
    assert lines[7:] == ["503 5.5.1 Error: need RCPT command", "250 2.1.0 Ok",
                         "503 5.5.1 Error: nested MAIL command", "250 2.1.5 Ok",
                         "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued",
                         "250 2.0.0 Ok", "502 5.5.2 Error: command not recognized",
                         "221 2.0.0 Bye", ""]
    recs = read_records(only_file(inst))
    assert ("F", "s@example.org") in recs and ("R", "r@example.com") in recs
    assert ("L", ".dotted") in recs


def test_newaliases_builds_alias_database(inst):
    aliases = inst.etc / "aliases"
    aliases.write_text("postmaster: root\nfoo: bar, baz\n")
    if os.geteuid() == 0:
        os.chown(inst.etc, inst.pw.pw_uid, inst.pw.pw_gid)
    inst.main["alias_database"] = f"hash:{aliases}"
    inst.write_main_cf()
    r = inst.run("sendmail", "-bi")
    assert r.returncode == 0, r.stderr
    assert (inst.etc / "aliases.db").exists()
    r = inst.run("postalias", "-q", "foo", f"hash:{aliases}")
    assert r.stdout == "bar, baz\n"


def test_pickup_hands_maildrop_file_to_cleanup():
    inst = make_instance(master_cf="pickup unix n - n 60 1 pickup\n"
                                   "cleanup unix n - n - 0 cleanup\n")
    try:
        inst.start_master()
        r = inst.run("sendmail", "-f", "me@example.test", "you@example.com",
                     input="Subject: picked up\n\nhello\n")
        assert r.returncode == 0, r.stderr
        line = inst.wait_log(f"uid={inst.pw.pw_uid} from=<me@example.test>")
        wait_for(lambda: maildrop(inst) == [], what="maildrop emptied")
        log = inst.log()
        qid = [l for l in log.splitlines() if "postfix/pickup[" in l and "uid=" in l][0]
        qid = qid.split("]: ")[1].split(":")[0]
        files = [p for p in (inst.spool / "incoming").rglob(qid)]
        assert len(files) == 1
        recs = read_records(files[0])
        assert ("F", "me@example.test") in recs
        assert ("R", "you@example.com") in recs
        assert ("A", f"submit_uid={inst.pw.pw_uid}") in recs
        assert ("L", "hello") in recs
    finally:
        inst.cleanup()


def test_pickup_removes_malformed_and_skips_unready_files():
    inst = make_instance(master_cf="pickup unix n - n 60 1 pickup\n"
                                   "cleanup unix n - n - 0 cleanup\n")
    try:
        bad = inst.spool / "maildrop" / "ABCDE123"
        bad.write_bytes(b"F1:a\nV1:1\nM0:\nX0:\nE0:\n")
        unready = inst.spool / "maildrop" / "ABCDE456"
        unready.write_bytes(b"F1:a\nR1:b\nM0:\nX0:\nE0:\n")
        for p, mode in ((bad, 0o744), (unready, 0o600)):
            os.chmod(p, mode)
            if os.geteuid() == 0:
                os.chown(p, inst.pw.pw_uid, inst.pw.pw_gid)
        inst.start_master()
        inst.wait_log("warning: maildrop/ABCDE123: unexpected record type 'V' -- removed")
        assert not bad.exists()
        assert unready.exists()
    finally:
        inst.cleanup()


def test_authorized_submit_users_refuses_and_writes_nothing():
    inst = make_instance({"authorized_submit_users": f"!{inst_user()}, static:anyone"})
    try:
        r = inst.run("sendmail", "someone@example.com", input="Subject: x\n\nbody\n")
        assert r.returncode == 77, r.stderr
        assert f"sendmail: fatal: User {inst.user}({inst.pw.pw_uid}) is not allowed to " \
               "submit mail" in r.stderr
        assert maildrop(inst) == []
        r = inst.run("postdrop", input="")
        assert r.returncode == 77 and "is not allowed to submit mail" in r.stderr
        # the same user when the list names them
        inst.main["authorized_submit_users"] = f"{inst.user}"
        inst.write_main_cf()
        r = inst.run("sendmail", "someone@example.com", input="Subject: x\n\nbody\n")
        assert r.returncode == 0, r.stderr
        assert len(maildrop(inst)) == 1
    finally:
        inst.cleanup()


def inst_user():
    """The user the sandbox commands run as (nobody when the tests run as root)."""
    import pwd
    return "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
