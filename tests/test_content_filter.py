"""After-queue content filtering as the seeds set up SpamAssassin: the smtp service has
`-o content_filter=spamassassin`, a pipe service runs a spamc-like command that passes the
message on to our sendmail, and the re-injected copy (pickup → cleanup, no content_filter
there) is delivered locally without looping. A stand-in script plays spamc -e."""
import os
import smtplib
import stat

from conftest import BUILD, REPO
from instance import Instance, wait_for

FILTER = """#!/bin/sh
# spamc -e stand-in: mark the message and hand it to sendmail, as spamc -e /usr/sbin/sendmail does
{ echo "X-Spam-Checked: yes, by the test filter"; cat; } | %s -oi -f "$1" "$2"
"""


def test_spamassassin_style_pipe_filter_round_trip():
    inst = Instance("cfilter", main_cf={"mydestination": "localhost, $myhostname",
                                        "local_recipient_maps": ""})
    try:
        script = inst.root / "fake-spamc"
        script.write_text(FILTER % (BUILD / "bin" / "sendmail"))
        script.chmod(0o755)
        text = (REPO / "conf" / "master.cf").read_text().replace(
            "smtp      inet  n       -       n       -       -       smtpd",
            f"127.0.0.1:{inst.smtp_port} inet n - n - - smtpd -o content_filter=spamassassin", 1)
        assert f"127.0.0.1:{inst.smtp_port}" in text
        text += (f"spamassassin unix - n n - - pipe user={inst.user} "
                 f"argv={script} ${{sender}} ${{recipient}}\n")
        inst.write_master_cf(text)
        inst.start_master()
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
            s.sendmail("sender@example.org", [f"{inst.user}@localhost"],
                       "Subject: filter me\r\n\r\nbody\r\n")
        box = inst.mail / inst.user
        wait_for(lambda: box.exists() and "Subject: filter me" in box.read_text(),
                 20, what="the filtered message in the mailbox")
        try:
            wait_for(lambda: inst.log().count(": removed") >= 2, 10, what="both queue files done")
        except AssertionError:
            print(inst.log())
            raise
        content = box.read_text()
        assert content.count("X-Spam-Checked: yes, by the test filter") == 1
        assert content.startswith("From sender@example.org ")
        log = inst.log()
        assert "relay=spamassassin" in log and "status=sent (delivered via spamassassin service)" in log
        assert log.count("relay=local") == 1  # delivered once: no loop back into the filter
    finally:
        inst.cleanup()
