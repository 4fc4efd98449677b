/* Unit tests for the server SASL interface: security options, the AUTH keyword, mechanism
 * filtering, base64 and length limits, abort, every Dovecot reply mapped to its SMTP reply, a
 * lost or unreachable auth server (TEMP), and the client mechanism filter. The Dovecot peer is
 * a scripted fake server in a child process on a unix socket in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/str.h"
#include "mail/sasl_client.h"
#include "mail/sasl_server.h"

static char dir[] = "/tmp/sasl_server_test.XXXXXX";
static char sock_path[256], log_path[256];
static pid_t child;

/* ---- the fake Dovecot auth server ------------------------------------------------------------ */

static const char handshake[] = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
                                "MECH\tANONYMOUS\tanonymous\nMECH\tCRAM-MD5\tdictionary\n"
                                "MECH\tHIDDEN\tprivate\nSPID\t1\nCUID\t1\nCOOKIE\tc0ffee\nDONE\n";

static void say(int fd, const char *fmt, unsigned id, const char *extra)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), fmt, id, extra ? extra : "");
    if (write(fd, buf, (size_t)n) < 0)
        _exit(1);
}

/* Answer one AUTH/CONT line; returns 0 to close the connection. */
static int answer(int fd, const char *line)
{
    FILE *log = fopen(log_path, "a");
    fprintf(log, "%s\n", line);
    fclose(log);
    unsigned id = 0;
    const char *tab = strchr(line, '\t');
    if (tab == NULL)
        return 1;
    id = (unsigned)strtoul(tab + 1, NULL, 10);
    int is_auth = strncmp(line, "AUTH\t", 5) == 0;
    const char *resp = is_auth ? strstr(line, "\tresp=") : strchr(tab + 1, '\t');
    if (resp)
        resp += is_auth ? 6 : 1;
    if (is_auth && strstr(line, "\tLOGIN\t") && resp == NULL)
        say(fd, "CONT\t%u\tVXNlcm5hbWU6\n", id, NULL);
    else if (resp == NULL)
        say(fd, "CONT\t%u\t\n", id, NULL);
    else if (strcmp(resp, "YWxpY2U=") == 0) /* alice */
        say(fd, "CONT\t%u\tUGFzc3dvcmQ6\n", id, NULL);
    else if (strcmp(resp, "c2VjcmV0") == 0 || strcmp(resp, "AGFsaWNlAHNlY3JldA==") == 0)
        say(fd, "OK\t%u\tuser=alice\n", id, NULL);
    else if (strcmp(resp, "dGVtcA==") == 0) /* temp */
        say(fd, "FAIL\t%u\treason=backend down\ttemp\n", id, NULL);
    else if (strcmp(resp, "Y2xvc2U=") == 0) /* close */
        return 0;
    else if (strcmp(resp, "cmVhc29u") == 0) /* reason */
        say(fd, "FAIL\t%u\treason=Password mismatch\n", id, NULL);
    else if (strcmp(resp, "b3RoZXI=") == 0) { /* other */
        say(fd, "FAIL\t999\treason=x\nNOTIFY\t%u\n", id, NULL);
        say(fd, "OK\t%u\tuser=bob\n", id, NULL);
    } else if (strcmp(resp, "Y3Rs") == 0) /* ctl */
        say(fd, "OK\t%u\tuser=b\001tob\n", id, NULL);
    else if (strcmp(resp, "bm91c2Vy") == 0) /* nouser */
        say(fd, "OK\t%u\n", id, NULL);
    else if (strcmp(resp, "YmFk") == 0) /* bad */
        say(fd, "CONT\t%u\tnot base64!\n", id, NULL);
    else
        say(fd, "FAIL\t%u\tuser=alice\n", id, NULL);
    return 1;
}

static void serve(int lfd)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(0);
        if (write(fd, handshake, sizeof(handshake) - 1) < 0)
            _exit(1);
        char buf[70000];
        size_t have = 0;
        int open = 1;
        while (open) {
            ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
            if (n <= 0)
                break;
            have += (size_t)n;
            char *nl;
            while (open && (nl = memchr(buf, '\n', have)) != NULL) {
                *nl = 0;
                if (strncmp(buf, "AUTH\t", 5) == 0 || strncmp(buf, "CONT\t", 5) == 0)
                    open = answer(fd, buf);
                size_t used = (size_t)(nl + 1 - buf);
                memmove(buf, nl + 1, have - used);
                have -= used;
            }
        }
        close(fd);
    }
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(sock_path, sizeof(sock_path), "%s/auth", dir);
    snprintf(log_path, sizeof(log_path), "%s/log", dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, sock_path);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 5) < 0)
        return -1;
    child = fork();
    if (child == 0)
        serve(lfd);
    close(lfd);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    unlink(sock_path);
    unlink(log_path);
    rmdir(dir);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------------------
 */

static struct sasl_srv *session(const char *path, const char *secopts, int tls, int broken)
{
    struct sasl_srv_settings s = {.type = "dovecot",
                                  .path = path,
                                  .service = "smtp",
                                  .security_options = secopts,
                                  .tls_security_options = "noanonymous",
                                  .response_limit = 100,
                                  .broken_clients = broken,
                                  .timeout = 5};
    struct str why = STR_INIT;
    assert_int_equal(sasl_srv_init(&s, &why), 0);
    struct sasl_srv_conn c = {"192.0.2.7", "4711", "127.0.0.1", "587", tls, tls ? 256 : 0};
    struct sasl_srv *srv = sasl_srv_new(&c, &why);
    assert_non_null(srv);
    str_release(&why);
    return srv;
}

static void done(struct sasl_srv *s)
{
    sasl_srv_free(s);
    sasl_srv_shutdown();
}

static char *last_logged(void)
{
    static char line[2048];
    FILE *f = fopen(log_path, "r");
    line[0] = 0;
    if (f) {
        while (fgets(line, sizeof(line), f))
            ;
        fclose(f);
    }
    line[strcspn(line, "\n")] = 0;
    return line;
}

static int next(struct sasl_srv *s, const char *resp)
{
    return sasl_srv_next(s, resp, strlen(resp));
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_secopts(void **state)
{
    (void)state;
    int f;
    struct str why = STR_INIT;
    assert_int_equal(sasl_secopts_parse("noanonymous, noplaintext", &f, &why), 0);
    assert_int_equal(f, SECOPT_NOANONYMOUS | SECOPT_NOPLAINTEXT);
    assert_int_equal(sasl_secopts_parse("", &f, &why), 0);
    assert_int_equal(f, 0);
    assert_int_equal(
        sasl_secopts_parse("noactive nodictionary mutual_auth forward_secrecy", &f, &why), 0);
    assert_int_equal(f, SECOPT_NOACTIVE | SECOPT_NODICTIONARY | SECOPT_MUTUAL_AUTH |
                            SECOPT_FORWARD_SECRECY);
    assert_int_equal(sasl_secopts_parse("noanonymous, bogus", &f, &why), -1);
    assert_string_equal(why.data, "unknown SASL security option: \"bogus\"");
    struct sasl_srv_settings s = {.type = "nosuch", .path = "x", .response_limit = 1};
    assert_int_equal(sasl_srv_init(&s, &why), -1);
    assert_string_equal(why.data, "unsupported SASL server implementation: nosuch");
    str_release(&why);
}

static void test_auth_keyword(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    sasl_format_auth_keyword(&s, "PLAIN LOGIN", 0);
    assert_string_equal(s.data, "AUTH PLAIN LOGIN");
    sasl_format_auth_keyword(&s, "PLAIN LOGIN", 1);
    assert_string_equal(s.data, "AUTH=PLAIN LOGIN");
    str_release(&s);
}

static void test_mechanisms(void **state)
{
    (void)state;
    struct str line = STR_INIT, broken = STR_INIT;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 1);
    assert_string_equal(sasl_srv_mechanisms(s), "PLAIN LOGIN CRAM-MD5");
    assert_int_equal(sasl_srv_ehlo_line(s, &line, &broken), 1);
    assert_string_equal(line.data, "AUTH PLAIN LOGIN CRAM-MD5");
    assert_string_equal(broken.data, "AUTH=PLAIN LOGIN CRAM-MD5");
    done(s);
    s = session(sock_path, "noplaintext, noanonymous", 0, 0);
    assert_string_equal(sasl_srv_mechanisms(s), "CRAM-MD5");
    assert_int_equal(sasl_srv_ehlo_line(s, &line, &broken), 1);
    assert_int_equal(broken.len, 0);
    done(s);
    s = session(sock_path, "noplaintext, noanonymous, nodictionary", 0, 0);
    assert_string_equal(sasl_srv_mechanisms(s), "");
    assert_int_equal(sasl_srv_ehlo_line(s, &line, NULL), 0);
    done(s);
    /* With TLS, smtpd_sasl_tls_security_options (noanonymous) applies. */
    s = session(sock_path, "noplaintext, noanonymous", 1, 0);
    assert_string_equal(sasl_srv_mechanisms(s), "PLAIN LOGIN CRAM-MD5");
    done(s);
    s = session(sock_path, "", 0, 0);
    assert_string_equal(sasl_srv_mechanisms(s), "PLAIN LOGIN ANONYMOUS CRAM-MD5");
    done(s);
    str_release(&line);
    str_release(&broken);
}

static void test_plain_ok(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 1, 0);
    assert_int_equal(sasl_srv_start(s, "plain", "AGFsaWNlAHNlY3JldA=="), SASL_RES_OK);
    assert_string_equal(sasl_srv_reply(s), "235 2.7.0 Authentication successful");
    assert_string_equal(sasl_srv_method(s), "PLAIN");
    assert_string_equal(sasl_srv_username(s), "alice");
    assert_string_equal(last_logged(), "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
                                       "rip=192.0.2.7\tlport=587\trport=4711\tsecured\t"
                                       "resp=AGFsaWNlAHNlY3JldA==");
    done(s);
}

static void test_plain_no_initial(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "PLAIN", NULL), SASL_RES_CONTINUE);
    assert_string_equal(sasl_srv_reply(s), "334 ");
    assert_int_equal(next(s, "AGFsaWNlAHNlY3JldA=="), SASL_RES_OK);
    assert_string_equal(sasl_srv_username(s), "alice");
    /* An empty initial response ("=") goes out as resp= with no value. */
    assert_int_equal(sasl_srv_start(s, "PLAIN", "="), SASL_RES_FAIL);
    assert_non_null(strstr(last_logged(), "\tresp="));
    assert_null(sasl_srv_username(s));
    done(s);
}

static void test_login_dialogue(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
    assert_string_equal(sasl_srv_reply(s), "334 VXNlcm5hbWU6");
    assert_int_equal(next(s, "YWxpY2U="), SASL_RES_CONTINUE);
    assert_string_equal(sasl_srv_reply(s), "334 UGFzc3dvcmQ6");
    assert_int_equal(next(s, "c2VjcmV0"), SASL_RES_OK);
    assert_string_equal(sasl_srv_reply(s), "235 2.7.0 Authentication successful");
    assert_string_equal(sasl_srv_username(s), "alice");
    assert_string_equal(sasl_srv_method(s), "LOGIN");
    done(s);
}

static void test_login_fail_keeps_challenge(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
    assert_int_equal(next(s, "YWxpY2U="), SASL_RES_CONTINUE);
    assert_int_equal(next(s, "d3Jvbmc="), SASL_RES_FAIL);
    assert_string_equal(sasl_srv_reply(s), "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6");
    assert_string_equal(sasl_srv_reason(s), "UGFzc3dvcmQ6");
    assert_null(sasl_srv_username(s));
    /* PLAIN failure without a reason: empty reason. */
    assert_int_equal(sasl_srv_start(s, "PLAIN", "AGFsaWNlAHdyb25n"), SASL_RES_FAIL);
    assert_string_equal(sasl_srv_reply(s), "535 5.7.8 Error: authentication failed: ");
    /* With reason=. */
    assert_int_equal(sasl_srv_start(s, "PLAIN", "cmVhc29u"), SASL_RES_FAIL);
    assert_string_equal(sasl_srv_reply(s),
                        "535 5.7.8 Error: authentication failed: Password mismatch");
    done(s);
}

static void test_abort_and_limits(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_response_limit(s), 100);
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
    assert_int_equal(next(s, "*"), SASL_RES_ABORT);
    assert_string_equal(sasl_srv_reply(s), "501 5.7.0 Authentication aborted");
    char big[200];
    memset(big, 'A', 104);
    big[104] = 0;
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
    assert_int_equal(next(s, big), SASL_RES_FAIL);
    assert_string_equal(sasl_srv_reply(s), "500 5.5.6 Authentication exchange line is too long");
    assert_int_equal(sasl_srv_start(s, "PLAIN", big), SASL_RES_FAIL);
    assert_string_equal(sasl_srv_reply(s), "500 5.5.6 Authentication exchange line is too long");
    /* next() without an exchange in progress. */
    assert_int_equal(next(s, "YWJj"), SASL_RES_FAIL);
    done(s);
}

static void test_bad_base64(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "PLAIN", "AGFsaWNl\tresp=x"), SASL_RES_FAIL);
    assert_string_equal(sasl_srv_reply(s), "535 5.7.8 Error: authentication failed: Invalid "
                                           "base64 data in initial response");
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
    char *before = strdup(last_logged());
    const char *bad[] = {"YWxp\tY2U=", "YWxp\nY2U=", "YWxp\rY2U=", "YWx", "YW=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
        free(before);
        before = strdup(last_logged());
        assert_int_equal(next(s, bad[i]), SASL_RES_FAIL);
        assert_string_equal(sasl_srv_reply(s), "535 5.7.8 Error: authentication failed: Invalid "
                                               "base64 data in continued response");
        assert_string_equal(last_logged(), before); /* nothing reached the server */
    }
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_CONTINUE);
    assert_int_equal(sasl_srv_next(s, "YW\0x", 4), SASL_RES_FAIL);
    free(before);
    done(s);
}

static void test_mechanism_checks(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    const char *bad[] = {"GSSAPI", "ANONYMOUS", "HIDDEN",
                         "",       "PLAIN\tX",  "WAY-TOO-LONG-MECHANISM-X"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sasl_srv_start(s, bad[i], NULL), SASL_RES_FAIL);
        assert_string_equal(sasl_srv_reply(s), "535 5.7.8 Error: authentication failed: Invalid "
                                               "authentication mechanism");
    }
    done(s);
}

static void test_backend_replies(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "PLAIN", "dGVtcA=="), SASL_RES_TEMP);
    assert_string_equal(sasl_srv_reply(s), "454 4.7.0 Temporary authentication failure: "
                                           "backend down");
    /* Replies to other ids and unknown lines are skipped; user= is unescaped. */
    assert_int_equal(sasl_srv_start(s, "PLAIN", "b3RoZXI="), SASL_RES_OK);
    assert_string_equal(sasl_srv_username(s), "bob");
    /* ... but a user name with a control character (escaped TAB) is refused (TEMP). */
    assert_int_equal(sasl_srv_start(s, "PLAIN", "Y3Rs"), SASL_RES_TEMP);
    done(s);
    s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "PLAIN", "bm91c2Vy"), SASL_RES_TEMP);
    assert_string_equal(sasl_srv_reason(s), "Authentication backend error");
    assert_int_equal(sasl_srv_start(s, "PLAIN", "YmFk"), SASL_RES_TEMP);
    assert_string_equal(sasl_srv_reason(s), "Authentication backend error");
    done(s);
}

static void test_lost_connection(void **state)
{
    (void)state;
    struct sasl_srv *s = session(sock_path, "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "PLAIN", "Y2xvc2U="), SASL_RES_TEMP);
    assert_string_equal(sasl_srv_reply(s), "454 4.7.0 Temporary authentication failure: "
                                           "Connection lost to authentication server");
    /* The next exchange reconnects. */
    assert_int_equal(sasl_srv_start(s, "PLAIN", "AGFsaWNlAHNlY3JldA=="), SASL_RES_OK);
    done(s);
}

static void test_unreachable(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/nosuch", dir);
    struct sasl_srv *s = session(path, "noanonymous", 0, 0);
    struct str line = STR_INIT;
    assert_string_equal(sasl_srv_mechanisms(s), "");
    assert_int_equal(sasl_srv_ehlo_line(s, &line, NULL), 0);
    assert_int_equal(sasl_srv_start(s, "PLAIN", "AGFsaWNlAHNlY3JldA=="), SASL_RES_TEMP);
    assert_string_equal(sasl_srv_reply(s), "454 4.7.0 Temporary authentication failure: "
                                           "Connection lost to authentication server");
    done(s);
    s = session("inet:127.0.0.1:1", "noanonymous", 0, 0);
    assert_int_equal(sasl_srv_start(s, "LOGIN", NULL), SASL_RES_TEMP);
    done(s);
    str_release(&line);
}

static void test_client_filter(void **state)
{
    (void)state;
    struct str out = STR_INIT;
    assert_int_equal(sasl_cli_filter("PLAIN LOGIN CRAM-MD5", "plain, login", &out), 2);
    assert_string_equal(out.data, "PLAIN LOGIN");
    assert_int_equal(sasl_cli_filter("PLAIN LOGIN CRAM-MD5", "", &out), 3);
    assert_string_equal(out.data, "PLAIN LOGIN CRAM-MD5");
    assert_int_equal(sasl_cli_filter("CRAM-MD5", "plain", &out), 0);
    assert_string_equal(str_cstr(&out), "");
    str_release(&out);
}

static void test_client_plain(void **state)
{
    (void)state;
    struct str why = STR_INIT, cmd = STR_INIT, resp = STR_INIT;
    struct sasl_cli_params p = {.server_mechs = "CRAM-MD5 LOGIN PLAIN",
                                .username = "alice",
                                .password = "secret",
                                .mechanism_filter = "plain",
                                .security_options = "noanonymous"};
    struct sasl_cli *c = sasl_cli_new(&p, &why);
    assert_non_null(c);
    assert_int_equal(sasl_cli_start(c, &cmd, &why), 0);
    assert_string_equal(cmd.data, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    assert_string_equal(sasl_cli_mechanism(c), "PLAIN");
    sasl_cli_free(c);
    p.mechanism_filter = "login";
    c = sasl_cli_new(&p, &why);
    assert_int_equal(sasl_cli_start(c, &cmd, &why), 0);
    assert_string_equal(cmd.data, "AUTH LOGIN");
    assert_int_equal(sasl_cli_step(c, "VXNlcm5hbWU6", &resp, &why), 0);
    assert_string_equal(resp.data, "YWxpY2U=");
    assert_int_equal(sasl_cli_step(c, "UGFzc3dvcmQ6", &resp, &why), 0);
    assert_string_equal(resp.data, "c2VjcmV0");
    assert_int_equal(sasl_cli_step(c, "!!", &resp, &why), -1);
    sasl_cli_free(c);
    /* Default client options forbid plaintext mechanisms. */
    p.mechanism_filter = "plain, login";
    p.security_options = "noplaintext, noanonymous";
    c = sasl_cli_new(&p, &why);
    assert_int_equal(sasl_cli_start(c, &cmd, &why), -1);
    sasl_cli_free(c);
    p.mechanism_filter = "digest-md5";
    c = sasl_cli_new(&p, &why);
    assert_int_equal(sasl_cli_start(c, &cmd, &why), -1);
    assert_string_equal(why.data, "no mechanism available");
    sasl_cli_free(c);
    p.security_options = "bogus";
    assert_null(sasl_cli_new(&p, &why));
    str_release(&why);
    str_release(&cmd);
    str_release(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secopts),
        cmocka_unit_test(test_auth_keyword),
        cmocka_unit_test(test_mechanisms),
        cmocka_unit_test(test_plain_ok),
        cmocka_unit_test(test_plain_no_initial),
        cmocka_unit_test(test_login_dialogue),
        cmocka_unit_test(test_login_fail_keeps_challenge),
        cmocka_unit_test(test_abort_and_limits),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_mechanism_checks),
        cmocka_unit_test(test_backend_replies),
        cmocka_unit_test(test_lost_connection),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_client_filter),
        cmocka_unit_test(test_client_plain),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
