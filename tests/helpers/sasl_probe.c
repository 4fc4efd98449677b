/* sasl_probe: test driver for the SASL library (tests/test_sasl_lib.py). It loads main.cf from
 * -c DIR (plus -o name=value overrides), initializes the server side from smtpd_sasl_* and runs
 * one scripted exchange, printing each SMTP reply the library produces:
 *
 *   sasl_probe -c DIR [-o n=v]... [-T] [-n N] server MECH INITIAL|- [RESPONSE]...
 *       INITIAL/RESPONSE are plain text that the probe base64-encodes, or "raw:TEXT" sent as is
 *       (for "*", bad base64, control characters); "-" means no initial response. -n repeats
 *       the exchange N times in one process (connection reuse). -T marks TLS as active.
 *   sasl_probe -c DIR [-o n=v]... [-T] client USER PASSWORD
 *       the Cyrus client (smtp_sasl_mechanism_filter, smtp_sasl_security_options) against the
 *       server side in the same process: prints the AUTH command and every reply.
 *
 * Output lines: "mechs: ...", "ehlo: ...", "ehlo-broken: ...", "C: ..." (client lines),
 * "S: ..." (server replies), "method: ...", "username: ...", "result: N". Library log lines go
 * to stderr. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/log.h"
#include "base/str.h"
#include "mail/config.h"
#include "mail/sasl_client.h"
#include "mail/sasl_server.h"

static struct sasl_srv *open_session(int tls)
{
    struct sasl_srv_settings set;
    struct str why = STR_INIT;
    sasl_srv_settings_from_config(&set);
    if (sasl_srv_init(&set, &why) < 0)
        msg_fatal("init: %s", str_cstr(&why));
    struct sasl_srv_conn conn = {"127.0.0.1", "40000", "127.0.0.1", "25", tls, tls ? 256 : 0};
    struct sasl_srv *s = sasl_srv_new(&conn, &why);
    if (s == NULL)
        msg_fatal("session: %s", str_cstr(&why));
    struct str line = STR_INIT, broken = STR_INIT;
    printf("mechs: %s\n", sasl_srv_mechanisms(s));
    if (sasl_srv_ehlo_line(s, &line, &broken)) {
        printf("ehlo: %s\n", str_cstr(&line));
        if (broken.len)
            printf("ehlo-broken: %s\n", str_cstr(&broken));
    }
    str_release(&line);
    str_release(&broken);
    str_release(&why);
    return s;
}

static void encode_arg(struct str *out, const char *arg)
{
    str_clear(out);
    if (strncmp(arg, "raw:", 4) == 0) {
        /* \t \r \n \0 escapes so tests can pass control characters */
        for (const char *p = arg + 4; *p; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                str_appendc(out, *p == 't'   ? '\t'
                                 : *p == 'r' ? '\r'
                                 : *p == 'n' ? '\n'
                                 : *p == '0' ? '\0'
                                             : *p);
            } else {
                str_appendc(out, *p);
            }
        }
        return;
    }
    struct str plain = STR_INIT;
    for (const char *p = arg; *p; p++) /* "\0" in plain text: a NUL byte (PLAIN) */
        if (*p == '\\' && p[1] == '0') {
            str_appendc(&plain, 0);
            p++;
        } else {
            str_appendc(&plain, *p);
        }
    base64_encode(out, plain.data, plain.len);
    if (plain.len == 0)
        str_set(out, "=");
    str_release(&plain);
}

static void report(struct sasl_srv *s, int rc)
{
    printf("S: %s\n", sasl_srv_reply(s));
    printf("method: %s\n", sasl_srv_method(s) ? sasl_srv_method(s) : "");
    if (sasl_srv_username(s))
        printf("username: %s\n", sasl_srv_username(s));
    printf("result: %d\n", rc);
    if (rc < 0)
        sasl_srv_log_failure(s, "localhost[127.0.0.1]");
    fflush(stdout);
}

static int run_server(int argc, char **argv, int tls, int repeat)
{
    if (argc < 2)
        msg_fatal("usage: server MECH INITIAL|- [RESPONSE]...");
    struct sasl_srv *s = open_session(tls);
    struct str buf = STR_INIT;
    int rc = 0;
    for (int r = 0; r < repeat; r++) {
        const char *init = NULL;
        if (strcmp(argv[1], "-") != 0) {
            encode_arg(&buf, argv[1]); /* "=" stands for an empty initial response */
            init = buf.data;
        }
        rc = sasl_srv_start(s, argv[0], init);
        for (int i = 2; rc == SASL_RES_CONTINUE; i++) {
            printf("S: %s\n", sasl_srv_reply(s));
            if (i >= argc) {
                printf("result: %d\n", rc);
                break;
            }
            encode_arg(&buf, argv[i]);
            if (strcmp(buf.data, "=") == 0 && strncmp(argv[i], "raw:", 4) != 0)
                str_clear(&buf);
            printf("C: %s\n", str_cstr(&buf));
            rc = sasl_srv_next(s, buf.data ? buf.data : "", buf.len);
        }
        if (rc != SASL_RES_CONTINUE)
            report(s, rc);
    }
    str_release(&buf);
    sasl_srv_free(s);
    sasl_srv_shutdown();
    return rc == SASL_RES_OK ? 0 : 1;
}

static int run_client(int argc, char **argv, int tls)
{
    if (argc < 2)
        msg_fatal("usage: client USER PASSWORD");
    struct sasl_srv *s = open_session(tls);
    struct str why = STR_INIT, cmd = STR_INIT, resp = STR_INIT;
    struct sasl_cli_params p = {
        .server_mechs = sasl_srv_mechanisms(s),
        .username = argv[0],
        .password = argv[1],
        .mechanism_filter = config_get("smtp_sasl_mechanism_filter"),
        .security_options = tls ? config_get("smtp_sasl_tls_security_options")
                                : config_get("smtp_sasl_security_options"),
        .server_name = "localhost",
        .tls_ssf = tls ? 256 : 0,
    };
    struct sasl_cli *c = sasl_cli_new(&p, &why);
    if (c == NULL || sasl_cli_start(c, &cmd, &why) < 0) {
        printf("client-error: %s\n", str_cstr(&why));
        return 2;
    }
    printf("C: %s\n", str_cstr(&cmd));
    /* "AUTH MECH [initial]" */
    char *mech = cmd.data + 5, *sp = strchr(mech, ' ');
    if (sp)
        *sp++ = 0;
    int rc = sasl_srv_start(s, mech, sp);
    for (int n = 0; rc == SASL_RES_CONTINUE && n < 10; n++) {
        printf("S: %s\n", sasl_srv_reply(s));
        if (sasl_cli_step(c, sasl_srv_reply(s) + 4, &resp, &why) < 0) {
            printf("client-error: %s\n", str_cstr(&why));
            return 2;
        }
        printf("C: %s\n", str_cstr(&resp));
        rc = sasl_srv_next(s, str_cstr(&resp), resp.len);
    }
    report(s, rc);
    sasl_cli_free(c);
    sasl_srv_free(s);
    sasl_srv_shutdown();
    str_release(&why);
    str_release(&cmd);
    str_release(&resp);
    return rc == SASL_RES_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int tls = 0, repeat = 1, ch;
    struct str err = STR_INIT;
    log_init("sasl_probe");
    signal(SIGPIPE, SIG_IGN);
    while ((ch = getopt(argc, argv, "+c:o:Tn:")) != -1) {
        switch (ch) {
        case 'c':
            dir = optarg;
            break;
        case 'o': {
            char *eq = strchr(optarg, '=');
            if (eq == NULL)
                msg_fatal("-o name=value");
            *eq = 0;
            config_override(optarg, eq + 1);
            break;
        }
        case 'T':
            tls = 1;
            break;
        case 'n':
            repeat = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (dir && config_load(dir, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    str_release(&err);
    if (optind >= argc)
        msg_fatal("usage: sasl_probe [-c dir] [-o n=v] [-T] server|client ...");
    if (strcmp(argv[optind], "server") == 0)
        return run_server(argc - optind - 1, argv + optind + 1, tls, repeat);
    if (strcmp(argv[optind], "client") == 0)
        return run_client(argc - optind - 1, argv + optind + 1, tls);
    msg_fatal("unknown mode %s", argv[optind]);
}
