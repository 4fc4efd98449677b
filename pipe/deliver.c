/* deliver: one delivery request of the pipe agent: the message is prepared per flags= and
 * eol=, checked against size=, the command (argv= expanded) runs once for all the request's
 * recipients as user= with a time limit, and its exit status is mapped per sysexits (or by an
 * enhanced status code at the start of its output) to sent, bounced or deferred. */
#include "pipe.h"

#include "base/exec.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/sysexits.h"

#include <stdio.h>
#include <ctype.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void prepend_lines(const struct pipe_attr *a, const struct mail_message *m, const char *rcpt,
                          const char *orig, struct str *out)
{
    const char *sender = *m->sender ? m->sender : a->null_sender;
    if (a->flags & PIPE_FLAG_F) {
        char date[64];
        struct tm tm;
        localtime_r(&m->now, &tm);
        strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
        str_appendf(out, "From %s  %s\n", sender, date);
    }
    if (a->flags & PIPE_FLAG_R)
        str_appendf(out, "Return-Path: <%s>\n", sender);
    if ((a->flags & PIPE_FLAG_O) && orig)
        str_appendf(out, "X-Original-To: %s\n", *orig ? orig : rcpt);
    if ((a->flags & PIPE_FLAG_D) && rcpt)
        str_appendf(out, "Delivered-To: %s\n", rcpt);
}

int pipe_message(const struct pipe_attr *a, struct mail_message *m, const char *rcpt,
                 const char *orig, struct str *out, long *size, struct str *err)
{
    struct str text = STR_INIT, body = STR_INIT;
    prepend_lines(a, m, rcpt, orig, &text);
    int quote = (a->flags & PIPE_FLAG_QUOTE) ? COPY_QUOTE : 0;
    if (message_copy_to_str(m, &body, NULL, NULL, quote, err) < 0) {
        str_release(&text);
        return -1;
    }
    *size = (long)body.len;
    str_appendn(&text, body.data ? body.data : "", body.len);
    if (a->flags & PIPE_FLAG_B)
        str_appendc(&text, '\n');
    /* Line endings and dot quoting: every line of text ends in '\n' here. */
    const char *p = str_cstr(&text), *end = p + text.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if ((a->flags & PIPE_FLAG_DOT) && n > 0 && *p == '.')
            str_appendc(out, '.');
        str_appendn(out, p, n);
        if (nl)
            str_append(out, a->eol);
        p += n + (nl ? 1 : 0);
    }
    str_release(&text);
    str_release(&body);
    return 0;
}

/* Appends ". Command output: text" with control characters as spaces. */
static void append_output(struct str *reason, const char *out, size_t len)
{
    if (len == 0)
        return;
    str_append(reason, ". Command output: ");
    for (size_t i = 0; i < len && i < 1024; i++) {
        unsigned char c = (unsigned char)out[i];
        str_appendc(reason, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
}

int pipe_map_result(const struct exec_result *res, const char *command, const char *service,
                    char *dsn, size_t dsnlen, struct str *reason)
{
    const char *out = str_cstr(&res->output);
    size_t outlen = res->output.len;
    str_clear(reason);
    if (res->how == EXEC_TIMEDOUT) {
        snprintf(dsn, dsnlen, "4.3.0");
        str_setf(reason, "Command time limit exceeded: \"%s\"", command);
        append_output(reason, out, outlen);
        return DELIVER_DEFERRED;
    }
    if (res->how == EXEC_SIGNALED) {
        snprintf(dsn, dsnlen, "4.3.0");
        str_setf(reason, "Command died with signal %d: \"%s\"", res->signo, command);
        append_output(reason, out, outlen);
        return DELIVER_DEFERRED;
    }
    const char *text;
    int st = sysexits_map(res->exit_status, dsn, dsnlen, &text);
    if (st == DELIVER_SENT) {
        str_setf(reason, "delivered via %s service", service);
        return st;
    }
    char code[16];
    if (sysexits_leading_dsn(out, code, sizeof(code))) {
        snprintf(dsn, dsnlen, "%s", code);
        st = code[0] == '4' ? DELIVER_DEFERRED : DELIVER_BOUNCED;
        size_t skip = strlen(code);
        while (skip < outlen && isspace((unsigned char)out[skip]))
            skip++;
        out += skip;
        outlen -= skip;
    }
    if (text)
        str_set(reason, text);
    else
        str_setf(reason, "Command died with status %d: \"%s\"", res->exit_status, command);
    append_output(reason, out, outlen);
    return st;
}

static void report_all(const struct deliver_request *rq, struct deliver_reply *rp, int status,
                       const char *dsn, const char *relay, const char *reason)
{
    for (size_t i = 0; i < rq->nrcpt; i++)
        deliver_report(rq, rp, i, status, dsn, reason, relay);
}

/* Runs the expanded command with the message; reports every recipient. */
static void run_command(const struct pipe_config *c, const struct deliver_request *rq,
                        struct deliver_reply *rp, struct argv *args, const struct str *input)
{
    struct str why = STR_INIT, reason = STR_INIT;
    struct argv *names = argv_split(c->export_environment, ", \t\n");
    struct argv *env = exec_env_filter(environ, (const char *const *)names->v);
    struct exec_spec spec;
    struct exec_result res;
    char dsn[16];
    exec_spec_init(&spec);
    spec.argv = args->v;
    spec.envp = env->v;
    spec.cwd = c->attr.directory;
    spec.set_ids = c->attr.run_as.set && geteuid() == 0;
    spec.uid = c->attr.run_as.uid;
    spec.gid = c->attr.run_as.gid;
    spec.stdin_data = input->data ? input->data : "";
    spec.stdin_len = input->len;
    spec.output_limit = 4096;
    spec.time_limit_ms = c->time_limit_ms;
    if (exec_run(&spec, &res, &why) < 0) {
        msg_warn("%s: command %s: %s", rq->queue_id, args->v[0], why.data);
        report_all(rq, rp, DELIVER_DEFERRED, "4.3.0", c->service,
                   "mail system error: cannot run command");
    } else {
        int st = pipe_map_result(&res, args->v[0], c->service, dsn, sizeof(dsn), &reason);
        report_all(rq, rp, st, dsn, c->service, reason.data);
        exec_result_free(&res);
    }
    argv_free(names);
    argv_free(env);
    str_release(&why);
    str_release(&reason);
}

static void deliver_message(const struct pipe_config *c, const struct deliver_request *rq,
                            struct deliver_reply *rp, struct mail_message *m)
{
    struct str input = STR_INIT, err = STR_INIT;
    long size = 0;
    int one = rq->nrcpt == 1;
    if ((c->attr.flags & (PIPE_FLAG_D | PIPE_FLAG_O)) && !one) {
        msg_warn("%s: flag D or O requires %s_destination_recipient_limit = 1", c->service,
                 c->service);
        report_all(rq, rp, DELIVER_DEFERRED, "4.3.5", c->service,
                   "mail system configuration error");
        goto out;
    }
    if (pipe_message(&c->attr, m, one ? rq->rcpts[0].address : NULL, one ? rq->rcpts[0].orig : NULL,
                     &input, &size, &err) < 0) {
        msg_warn("%s: %s", rq->queue_id, err.data);
        report_all(rq, rp, DELIVER_DEFERRED, "4.3.0", c->service,
                   "mail system error: cannot read queue file");
        goto out;
    }
    if (c->attr.size_limit > 0 && size > c->attr.size_limit) {
        report_all(rq, rp, DELIVER_BOUNCED, "5.2.3", c->service, "message too large");
        goto out;
    }
    struct pipe_expand_ctx ec = {
        .rq = rq, .attr = &c->attr, .delimiters = c->delimiters, .size = size};
    struct argv *args = pipe_expand(&ec, &err);
    if (args == NULL) {
        msg_warn("%s: %s", c->service, err.data);
        report_all(rq, rp, DELIVER_DEFERRED, "4.3.5", c->service,
                   "mail system configuration error");
        goto out;
    }
    run_command(c, rq, rp, args, &input);
    argv_free(args);
out:
    str_release(&input);
    str_release(&err);
}

void pipe_deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx)
{
    const struct pipe_config *c = ctx;
    struct queue_envelope env = {0};
    struct str why = STR_INIT;
    int fd = deliver_open_queue_file(rq, c->hash_names, c->depth, &env, &why);
    if (fd < 0) {
        msg_warn("%s: cannot deliver: %s", rq->queue_id, why.data);
        report_all(rq, rp, DELIVER_DEFERRED, "4.3.0", c->service,
                   "mail system error: cannot read queue file");
        str_release(&why);
        return;
    }
    struct mail_message m = {.fd = fd,
                             .env = &env,
                             .queue_id = rq->queue_id,
                             .sender = rq->sender,
                             .now = (time_t)rq->started};
    deliver_message(c, rq, rp, &m);
    queue_envelope_release(&env);
    close(fd);
    str_release(&why);
}
