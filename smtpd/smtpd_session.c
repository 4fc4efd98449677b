/* smtpd_session: one SMTP session — connect logging, the greeting, the command loop with its
 * dispatch table, protocol synchronization (talking before the greeting, pipelining after
 * HELO/EHLO or without EHLO), non-SMTP probes, command line validation (NUL, UTF-8, length,
 * bare LF), error and junk-command limits, the per-command deadline, and the
 * "disconnect from name[addr] ehlo=1 ... commands=N" statistics. */
#include "smtpd.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "service/server.h"

enum { F_JUNK = 1, F_GROUP_END = 2, F_PRE_TLS = 4 /* allowed before TLS at level encrypt */ };

struct smtpd_cmd {
    const char *name;
    smtpd_cmd_fn fn;
    int counter;
    int flags;
};

static const struct smtpd_cmd commands[] = {
    {"HELO", smtpd_cmd_helo, CNT_HELO, F_GROUP_END | F_PRE_TLS},
    {"EHLO", smtpd_cmd_ehlo, CNT_EHLO, F_GROUP_END | F_PRE_TLS},
    {"STARTTLS", smtpd_cmd_starttls, CNT_STARTTLS, F_PRE_TLS},
    {"AUTH", smtpd_cmd_auth, CNT_AUTH, F_GROUP_END},
    {"MAIL", smtpd_cmd_mail, CNT_MAIL, 0},
    {"RCPT", smtpd_cmd_rcpt, CNT_RCPT, 0},
    {"DATA", smtpd_cmd_data, CNT_DATA, 0},
    {"BDAT", smtpd_cmd_bdat, CNT_BDAT, 0},
    {"RSET", smtpd_cmd_rset, CNT_RSET, F_JUNK},
    {"NOOP", smtpd_cmd_noop, CNT_NOOP, F_JUNK | F_PRE_TLS},
    {"VRFY", smtpd_cmd_vrfy, CNT_VRFY, F_JUNK},
    {"ETRN", smtpd_cmd_etrn, CNT_ETRN, F_JUNK},
    {"QUIT", smtpd_cmd_quit, CNT_QUIT, F_PRE_TLS},
    {"HELP", smtpd_cmd_help, CNT_HELP, F_JUNK},
    {"XFORWARD", smtpd_cmd_xforward, CNT_XFORWARD, 0},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int smtpd_cmd_lookup(const char *line, const char **args)
{
    size_t n = strcspn(line, " \t");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strlen(commands[i].name) == n && strncasecmp(line, commands[i].name, n) == 0) {
            const char *a = line + n;
            a += strspn(a, " \t");
            *args = a;
            return (int)i;
        }
    }
    return -1;
}

int smtpd_is_junk_probe(const char *line)
{
    static const char *const probes[] = {"GET", "POST", "CONNECT", "USER", "PUT", "HEAD"};
    size_t n = strcspn(line, " \t");
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        if (strlen(probes[i]) == n && strncasecmp(line, probes[i], n) == 0)
            return 1;
    /* A header line: a field name of printable characters followed directly by ':'. */
    size_t f = strcspn(line, ": \t");
    return f > 0 && line[f] == ':' &&
           strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "abcdefghijklmnopqrstuvwxyz0123456789-_") == f;
}

static int input_waiting(struct smtpd_state *st)
{
    if (stream_pending(st->s) > 0)
        return 1;
    struct pollfd p = {.fd = stream_fd(st->s), .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static void sync_violation(struct smtpd_state *st, const char *after)
{
    msg_info("improper command pipelining after %s from %s", after, st->namaddr);
    st->ctx.pipelining_seen = 1;
    smtpd_reply(st, "554 5.5.0 Error: SMTP protocol synchronization");
    st->quit = 1;
}

/* What the loop does with one line; -1 ends the session. */
enum { LINE_OK = 0, LINE_END = -1 };

static int check_line(struct smtpd_state *st, struct str *line, int rc)
{
    if (rc == STREAM_PARTIAL) {
        struct str rest = STR_INIT;
        int r;
        do {
            str_clear(&rest);
            r = stream_getline(st->s, &rest, STREAM_BUFSIZE);
        } while (r == STREAM_PARTIAL);
        str_release(&rest);
        if (r != STREAM_LINE)
            return r;
        smtpd_reply(st, "500 5.5.2 Error: line too long");
        return 1;
    }
    int crlf = line->len >= 2 && line->data[line->len - 2] == '\r';
    str_truncate(line, line->len - (crlf ? 2 : 1));
    if (!crlf && smtpd_conf.bare_lf == BARE_LF_YES) {
        smtpd_reply(st, "550 5.5.2 Error: bare <LF> received");
        st->quit = 1;
        return 1;
    }
    if (memchr(line->data, 0, line->len)) {
        smtpd_reply(st, "500 5.5.2 Error: bad syntax");
        return 1;
    }
    if (!address_valid_utf8(line->data, line->len)) {
        smtpd_reply(st, "500 5.5.2 Error: bad UTF-8 syntax");
        return 1;
    }
    return 0;
}

static void log_gone(struct smtpd_state *st)
{
    if (stream_status(st->s) & STREAM_ST_TIMEOUT) {
        stream_clear_status(st->s);
        stream_set_deadline(st->s, deadline_after_ms(10000));
        smtpd_reply(st, "421 4.4.2 %s Error: timeout exceeded", smtpd_conf.myhostname);
        stream_flush(st->s);
        msg_info("timeout after %s from %s", st->where, st->namaddr);
    } else {
        msg_info("lost connection after %s from %s", st->where, st->namaddr);
    }
}

/* One command: 0 continue, -1 the session ends. */
static int one_command(struct smtpd_state *st, struct str *line)
{
    if (st->error_count >= smtpd_conf.hard_error_limit) {
        smtpd_reply(st, "421 4.7.0 %s Error: too many errors", smtpd_conf.myhostname);
        msg_info("too many errors after %s from %s", st->where, st->namaddr);
        return -1;
    }
    str_clear(line);
    stream_set_deadline(st->s, deadline_after_ms(smtpd_conf.timeout * 1000));
    int rc = stream_getline(st->s, line, (size_t)smtpd_conf.line_length_limit + 2);
    if (rc != STREAM_LINE && rc != STREAM_PARTIAL) {
        log_gone(st);
        return -1;
    }
    if ((rc = check_line(st, line, rc)) != 0) {
        st->counts[CNT_UNKNOWN].total++;
        if (rc < 0) {
            log_gone(st);
            return -1;
        }
        return st->quit ? -1 : 0;
    }
    if (msg_verbose)
        msg_info("< %s: %s", st->namaddr, line->data);
    if (smtpd_is_junk_probe(line->data)) {
        msg_warn("non-SMTP command from %s: %s", st->namaddr, line->data);
        smtpd_reply(st, "221 2.7.0 Error: I can break rules, too. Goodbye.");
        st->counts[CNT_UNKNOWN].total++;
        return -1;
    }
    const char *args;
    int idx = smtpd_cmd_lookup(line->data, &args);
    if (idx < 0) {
        st->counts[CNT_UNKNOWN].total++;
        st->where = "UNKNOWN";
        if (smtpd_milter_unknown(st, line->data) == 0)
            smtpd_reply(st, "500 5.5.2 Error: command not recognized");
        return 0;
    }
    const struct smtpd_cmd *cmd = &commands[idx];
    if (input_waiting(st) && cmd->fn != smtpd_cmd_quit) {
        if (cmd->flags & F_GROUP_END) {
            st->counts[cmd->counter].total++;
            sync_violation(st, cmd->name);
            return -1;
        }
        if (!st->ctx.esmtp_pipelining && !st->ctx.pipelining_seen) {
            msg_info("improper command pipelining after %s from %s", cmd->name, st->namaddr);
            st->ctx.pipelining_seen = 1;
        }
    }
    if ((cmd->flags & F_JUNK) && ++st->junk_count > smtpd_conf.junk_limit)
        st->error_count++;
    st->where = cmd->name;
    st->counts[cmd->counter].total++;
    if (st->access_denied && cmd->fn != smtpd_cmd_quit) {
        smtpd_reply(st, "503 5.7.0 Error: access denied for %s", st->namaddr);
        return 0;
    }
    if (!(cmd->flags & F_PRE_TLS) && smtpd_tls_required(st)) {
        smtpd_reply(st, "530 5.7.0 Must issue a STARTTLS command first");
        return 0;
    }
    rc = cmd->fn(st, args);
    if (rc == 0)
        st->counts[cmd->counter].ok++;
    if (rc == SMTPD_GONE) {
        log_gone(st);
        return -1;
    }
    return st->quit ? -1 : 0;
}

/* Input the client sent that we will not read would turn our close into a reset that can
 * destroy the last reply in flight: after any end but QUIT, half-close, then drain briefly. */
static void linger(struct smtpd_state *st)
{
    char buf[4096];
    if (!st->network || (st->counts[CNT_QUIT].ok && !input_waiting(st)))
        return;
    shutdown(stream_fd(st->s), SHUT_WR);
    stream_discard_input(st->s);
    long deadline = deadline_after_ms(1000);
    for (int i = 0; i < 64; i++) {
        struct pollfd p = {.fd = stream_fd(st->s), .events = POLLIN};
        if (poll(&p, 1, deadline_poll_ms(deadline)) <= 0 || read(p.fd, buf, sizeof(buf)) <= 0)
            break;
    }
}

/* smtpd_client_connection_count/rate_limit: 1 when the client may go on. */
static int connect_limits(struct smtpd_state *st)
{
    struct str reply = STR_INIT;
    if (!st->checker)
        return 1;
    const char *service = server_service_name();
    int rc = smtpd_check_connect_limits(st->checker, &st->ctx, service ? service : "smtp", &reply);
    if (rc == SMTPD_CHECK_REJECT)
        smtpd_reply(st, "%s", str_cstr(&reply));
    str_release(&reply);
    return rc != SMTPD_CHECK_REJECT;
}

static void session_init(struct smtpd_state *st, struct stream *s, struct smtpd_checker *checker)
{
    memset(st, 0, sizeof(*st));
    st->s = s;
    st->checker = checker;
    st->protocol = "SMTP";
    st->where = "CONNECT";
    smtpd_check_ctx_init(&st->ctx);
    smtpd_peer_init(st, stream_fd(s));
    st->ctx.client_name = st->name;
    st->ctx.reverse_client_name = st->reverse_name;
    st->ctx.client_addr = st->addr;
    st->ctx.client_port = st->port;
    st->ctx.server_addr = st->server_addr;
    st->ctx.server_port = st->server_port;
    st->ctx.client_name_status = st->name_status;
    st->ctx.reverse_name_status = st->reverse_status;
    st->ctx.protocol = st->protocol;
}

static void session_free(struct smtpd_state *st)
{
    smtpd_txn_reset(st);
    smtpd_milter_end(st);
    smtpd_xforward_reset(st);
    smtpd_sasl_reset(st);
    smtpd_check_ctx_release(&st->ctx);
    free(st->name);
    free(st->reverse_name);
    free(st->addr);
    free(st->port);
    free(st->server_addr);
    free(st->server_port);
    free(st->namaddr);
    free(st->helo);
    str_release(&st->sender);
    str_release(&st->first_rcpt);
    str_release(&st->queue_id);
    str_release(&st->reply_scratch);
}

void smtpd_session(struct stream *s, struct smtpd_checker *checker)
{
    struct smtpd_state st;
    struct str line = STR_INIT;
    int saved_verbose = msg_verbose, counted = 0;

    stream_set_timeout(s, (int)smtpd_conf.timeout);
    session_init(&st, s, checker);
    if (checker && smtpd_check_debug_peer(checker, &st.ctx))
        msg_verbose += (int)smtpd_conf.debug_peer_level;
    msg_info("connect from %s", st.namaddr);
    if (smtpd_tls_wrapper_start(&st) < 0) {
        /* Wrapper mode: the handshake failed (logged); there is no SMTP session. */
    } else if (st.network && !st.tls && input_waiting(&st)) {
        msg_info("improper command pipelining before greeting from %s", st.namaddr);
        st.ctx.pipelining_seen = 1;
        smtpd_reply(&st, "554 5.5.0 Error: SMTP protocol synchronization");
    } else if (connect_limits(&st)) {
        counted = 1;
        /* With smtpd_delay_reject = no a rejected client gets the reject instead of the
         * greeting, and every command but QUIT is refused. */
        if (smtpd_run_check(&st, smtpd_check_client, "CONNECT", NULL) < 0)
            st.access_denied = 1;
        else if (smtpd_milter_connect(&st) == 0)
            smtpd_reply(&st, "220 %s", smtpd_conf.banner);
        while (!st.quit && one_command(&st, &line) == 0)
            ;
    }
    stream_flush(s);
    smtpd_tls_end(&st);
    linger(&st);
    if (counted)
        smtpd_check_disconnect_limits(checker, &st.ctx);
    struct str counts = STR_INIT;
    smtpd_format_counts(&st, &counts);
    msg_info("disconnect from %s%s", st.namaddr, str_cstr(&counts));
    str_release(&counts);
    str_release(&line);
    session_free(&st);
    msg_verbose = saved_verbose;
}
