"""`make install DESTDIR=...` produces a tree that finds its own configuration: the programs
report the staged directories as their defaults, and the shipped files are in place."""
import grp
import os
import stat
import subprocess

from conftest import BUILD, REPO


def test_destdir_install_runs_in_place(tmp_path):
    dest = tmp_path / "stage"
    r = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", f"B={BUILD}", "SANITIZE=" + os.environ.get("SANITIZE", "")], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    postconf = dest / "usr/sbin/postconf"
    assert (dest / "usr/libexec/postfix/master").exists()
    assert (dest / "etc/postfix/master.cf").read_text() == (REPO / "conf/master.cf").read_text()
    env = dict(os.environ)
    env.pop("MAIL_CONFIG", None)
    out = subprocess.run([str(postconf), "-d", "config_directory", "queue_directory",
                          "daemon_directory"], capture_output=True, text=True, env=env,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"config_directory = {dest}/etc/postfix\n"
                          f"queue_directory = {dest}/var/spool/postfix\n"
                          f"daemon_directory = {dest}/usr/libexec/postfix\n")
    # postdrop alone is set-group-id setgid_group (root installs with the group only).
    try:
        gid = grp.getgrnam("postdrop").gr_gid if os.geteuid() == 0 else None
    except KeyError:
        gid = None
    if gid is not None:
        st = (dest / "usr/sbin" / "postdrop").stat()
        assert st.st_gid == gid and stat.S_IMODE(st.st_mode) == 0o2755
        assert stat.S_IMODE((dest / "usr/sbin" / "postqueue").stat().st_mode) == 0o755
    # An existing main.cf is never overwritten by a second install.
    (dest / "etc/postfix/main.cf").write_text("myhostname = kept.example\n")
    subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", f"B={BUILD}", "SANITIZE=" + os.environ.get("SANITIZE", "")], cwd=REPO,
                   check=True, capture_output=True, timeout=300)
    assert (dest / "etc/postfix/main.cf").read_text() == "myhostname = kept.example\n"
