"""End-to-end tests of the postconf command: display, editing, master.cf and warnings."""
import os
import shutil

from conftest import REPO, run

MAIN_CF = """# Site configuration
myhostname = mail.example.com

# Where mail is delivered
mydestination = $myhostname, localhost
relay_domains = $mydomain,
    other.example
"""


def write_main(config_dir, text=MAIN_CF):
    (config_dir / "main.cf").write_text(text)


def postconf(config_dir, *args, **kw):
    return run(["postconf", "-c", str(config_dir)] + list(args), **kw)


def test_n_shows_only_settings(config_dir):
    write_main(config_dir)
    r = postconf(config_dir, "-n")
    assert r.returncode == 0
    assert r.stdout == ("mydestination = $myhostname, localhost\n"
                        "myhostname = mail.example.com\n"
                        "relay_domains = $mydomain, other.example\n")
    assert r.stderr == ""


def test_named_values_h_and_x(config_dir):
    write_main(config_dir)
    r = postconf(config_dir, "mydomain", "myorigin", "mail_name", "smtpd_tls_security_level")
    assert r.stdout == ("mydomain = example.com\nmyorigin = $myhostname\nmail_name = Kestrel\n"
                        "smtpd_tls_security_level =\n")
    r = postconf(config_dir, "-h", "myorigin")
    assert r.stdout == "$myhostname\n"
    r = postconf(config_dir, "-x", "relay_domains", "smtpd_banner", "syslog_name")
    assert r.stdout == ("relay_domains = example.com, other.example\n"
                        "smtpd_banner = mail.example.com ESMTP Kestrel\n"
                        "syslog_name = postfix\n")
    r = postconf(config_dir, "-hx", "mydestination")
    assert r.stdout == "mail.example.com, localhost\n"


def test_d_defaults(config_dir):
    write_main(config_dir)
    r = postconf(config_dir, "-d", "myhostname", "myorigin", "mydestination", "message_size_limit",
                 "queue_run_delay", "mail_owner", "smtpd_banner")
    lines = r.stdout.splitlines()
    assert lines[0] != "myhostname = mail.example.com"
    assert lines[1:] == ["myorigin = $myhostname",
                         "mydestination = $myhostname, localhost.$mydomain, localhost",
                         "message_size_limit = 10240000", "queue_run_delay = 300s",
                         "mail_owner = postfix", "smtpd_banner = $myhostname ESMTP $mail_name"]
    r = postconf(config_dir, "-dx", "mydomain", "myhostname")
    host = r.stdout.splitlines()[1].split(" = ")[1]
    dom = host.split(".", 1)[1] if "." in host else "localdomain"
    assert r.stdout.splitlines()[0] == "mydomain = " + dom


def test_all_parameters_sorted(config_dir):
    r = postconf(config_dir)
    names = [l.split(" =")[0] for l in r.stdout.splitlines()]
    assert len(names) > 600
    assert names == sorted(names)
    assert "smtpd_relay_restrictions" in names


def test_e_preserves_comments_and_layout(config_dir):
    write_main(config_dir)
    r = postconf(config_dir, "-e", "mydestination = $myhostname, example.net",
                 "relay_domains=", "new_param=1")
    assert r.returncode == 0, r.stderr
    assert (config_dir / "main.cf").read_text() == """# Site configuration
myhostname = mail.example.com

# Where mail is delivered
mydestination = $myhostname, example.net
relay_domains =
new_param = 1
"""
    # name=value without -e also edits
    r = postconf(config_dir, "myhostname=mx.example.org")
    assert r.returncode == 0
    assert "myhostname = mx.example.org\n" in (config_dir / "main.cf").read_text()
    assert not [p for p in os.listdir(config_dir) if p.startswith("main.cf.")]


def test_X_and_comment(config_dir):
    write_main(config_dir)
    assert postconf(config_dir, "-X", "relay_domains").returncode == 0
    assert postconf(config_dir, "-#", "mydestination").returncode == 0
    assert (config_dir / "main.cf").read_text() == """# Site configuration
myhostname = mail.example.com

# Where mail is delivered
#mydestination = $myhostname, localhost
"""


def test_broken_main_cf_reports_file_line_and_changes_nothing(config_dir):
    text = "myhostname = a.example\n\n# c\nthis is broken\n"
    write_main(config_dir, text)
    r = postconf(config_dir, "-e", "myhostname=b.example")
    assert r.returncode == 1
    assert r.stderr == ("postconf: fatal: %s/main.cf, line 4: missing '=' after attribute name: "
                        "\"this\"\n" % config_dir)
    assert (config_dir / "main.cf").read_text() == text
    r = postconf(config_dir, "-n")
    assert r.returncode == 1 and r.stdout == ""


def test_unused_and_unknown_warnings(config_dir):
    write_main(config_dir, "myhostname = h.example\nfoo_bar = 1\nused_one = x\n"
                           "relayhost = $used_one\nsmtpd_restriction_classes = myclass\n"
                           "myclass = permit\nmaster_one = y\n")
    with open(config_dir / "master.cf", "a") as f:
        f.write("submission inet n - n - - smtpd -o smtpd_client_restrictions=$master_one\n")
    r = postconf(config_dir, "-n")
    assert r.returncode == 0
    assert r.stderr == "postconf: warning: %s/main.cf: unused parameter: foo_bar=1\n" % config_dir
    r = postconf(config_dir, "nosuch_param", "myhostname")
    assert r.stdout == "myhostname = h.example\n"
    assert "postconf: warning: unknown parameter: nosuch_param\n" in r.stderr


def test_mail_config_and_c(config_dir, tmp_path):
    write_main(config_dir, "myhostname = env.example\n")
    r = run(["postconf", "-h", "myhostname", "config_directory"], config_dir=config_dir)
    assert r.stdout.splitlines()[0] == "env.example"
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.cf").write_text("myhostname = c.example\n")
    shutil.copy(config_dir / "master.cf", other / "master.cf")
    r = run(["postconf", "-c", str(other), "-h", "myhostname"], config_dir=config_dir)
    assert r.stdout == "c.example\n"
    r = run(["postconf", "-c", str(tmp_path / "missing"), "-n"])
    assert r.returncode == 1 and "main.cf" in r.stderr


def test_M_F_P_display(config_dir):
    r = postconf(config_dir, "-M", "pickup/unix", "relay")
    assert r.stdout == (
        "pickup     unix  n       -       n       60      1       pickup\n"
        "relay      unix  -       -       n       -       -       smtp -o "
        "syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name\n")
    r = postconf(config_dir, "-F", "qmgr/unix")
    assert r.stdout == ("qmgr/unix/service = qmgr\nqmgr/unix/type = unix\n"
                        "qmgr/unix/private = n\nqmgr/unix/unprivileged = -\n"
                        "qmgr/unix/chroot = n\nqmgr/unix/wakeup = 300\n"
                        "qmgr/unix/process_limit = 1\nqmgr/unix/command = qmgr\n")
    r = postconf(config_dir, "-Fh", "cleanup/unix/process_limit")
    assert r.stdout == "0\n"
    r = postconf(config_dir, "-P")
    assert r.stdout == ("relay/unix/syslog_name = "
                        "${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name\n")
    r = postconf(config_dir, "-M")
    services = [l.split()[0] + "/" + l.split()[1] for l in r.stdout.splitlines()]
    for s in ["smtp/inet", "pickup/unix", "cleanup/unix", "qmgr/unix", "tlsmgr/unix",
              "rewrite/unix", "bounce/unix", "defer/unix", "trace/unix", "verify/unix",
              "flush/unix", "proxymap/unix", "proxywrite/unix", "smtp/unix", "relay/unix",
              "showq/unix", "error/unix", "retry/unix", "discard/unix", "local/unix",
              "virtual/unix", "lmtp/unix", "anvil/unix", "scache/unix", "postlog/unix-dgram"]:
        assert s in services


def test_M_F_P_editing(config_dir):
    master = config_dir / "master.cf"
    before = master.read_text()
    r = postconf(config_dir, "-Me",
                 "submission/inet=submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes")
    assert r.returncode == 0, r.stderr
    r = postconf(config_dir, "-Pe", "submission/inet/syslog_name=postfix/submission")
    assert r.returncode == 0, r.stderr
    r = postconf(config_dir, "-Fe", "pickup/unix/wakeup=30")
    assert r.returncode == 0, r.stderr
    r = postconf(config_dir, "-M", "submission/inet")
    assert r.stdout == ("submission inet  n       -       n       -       -       smtpd "
                        "-o smtpd_sasl_auth_enable=yes -o syslog_name=postfix/submission\n")
    assert postconf(config_dir, "-Fh", "pickup/unix/wakeup").stdout == "30\n"
    assert postconf(config_dir, "-PX", "submission/inet/syslog_name").returncode == 0
    assert postconf(config_dir, "-P", "submission").stdout == \
        "submission/inet/smtpd_sasl_auth_enable = yes\n"
    assert postconf(config_dir, "-M#", "tlsmgr/unix").returncode == 0
    assert postconf(config_dir, "-MX", "submission/inet").returncode == 0
    after = master.read_text()
    assert "#tlsmgr    unix" in after
    assert "submission inet  n" not in after
    # comments and other lines are untouched
    assert after.splitlines()[:20] == before.splitlines()[:20]
    r = postconf(config_dir, "-Fe", "pickup/unix/wakeup=soon")
    assert r.returncode == 1 and "wakeup" in r.stderr
    assert postconf(config_dir, "-Fh", "pickup/unix/wakeup").stdout == "30\n"


def test_master_cf_error_has_line(config_dir):
    (config_dir / "master.cf").write_text("# x\nsmtp inet n - n - - smtpd\nbad unix q - - - - x\n")
    r = postconf(config_dir, "-M")
    assert r.returncode == 1
    assert r.stderr == ("postconf: fatal: %s/master.cf: line 3: field \"private\": "
                        "bad value: \"q\"\n" % config_dir)


def test_lists(config_dir):
    assert run(["postconf", "-a"]).stdout == "cyrus\ndovecot\n"
    assert run(["postconf", "-A"]).stdout == "cyrus\n"
    types = run(["postconf", "-m"]).stdout.split()
    assert "static" in types and "inline" in types


def test_fold(config_dir):
    write_main(config_dir, "smtpd_recipient_restrictions = " + ", ".join(
        ["check_sender_access hash:/etc/postfix/access%d" % i for i in range(6)]) + "\n")
    r = postconf(config_dir, "-nf")
    lines = r.stdout.splitlines()
    assert len(lines) > 1
    assert all(len(l) <= 80 for l in lines)
    assert all(l.startswith("    ") for l in lines[1:])


def test_shipped_files_parse(tmp_path):
    d = tmp_path / "etc"
    d.mkdir()
    shutil.copy(REPO / "conf" / "main.cf", d / "main.cf")
    shutil.copy(REPO / "conf" / "master.cf", d / "master.cf")
    r = run(["postconf", "-c", str(d), "-n"])
    assert r.returncode == 0 and r.stderr == ""
    assert "compatibility_level = 3.6\n" in r.stdout
