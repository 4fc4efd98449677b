/* sm_smtp: "sendmail -bs", a minimal SMTP server dialogue on stdin/stdout (EHLO, HELO, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT) with Postfix's replies; each message goes through postdrop
 * like any other local submission. */
#include "sendmail.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/queue_record.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SMTP_LINE_LIMIT 4096
#define SMTP_RCPT_LIMIT 1000
#define SMTP_ERROR_LIMIT 20

struct smtp_state {
    FILE *in, *out;
    const struct sm_opts *opts;
    int have_mail;
    struct str sender;
    struct argv *rcpts;
    int notify;
    int quit;
    int errors;
};

static void reply(struct smtp_state *st, const char *text)
{
    fprintf(st->out, "%s\r\n", text);
    fflush(st->out);
}

static void reset(struct smtp_state *st)
{
    st->have_mail = 0;
    str_clear(&st->sender);
    argv_clear(st->rcpts);
}

/* "FROM:<addr> params" or "TO:<addr> params": the address between the brackets. */
static int path_arg(const char *args, const char *keyword, struct str *addr, const char **rest)
{
    size_t k = strlen(keyword);
    if (strncasecmp(args, keyword, k) != 0)
        return -1;
    args += k;
    while (*args == ' ')
        args++;
    if (*args != '<')
        return -1;
    const char *end = strchr(args, '>');
    if (end == NULL)
        return -1;
    str_clear(addr);
    str_appendn(addr, args + 1, (size_t)(end - args - 1));
    *rest = end + 1;
    return 0;
}

static void cmd_helo(struct smtp_state *st, const char *args, int ehlo)
{
    if (*args == 0) {
        reply(st, ehlo ? "501 Syntax: EHLO hostname" : "501 Syntax: HELO hostname");
        return;
    }
    reset(st);
    const char *host = config_get("myhostname");
    if (!ehlo) {
        fprintf(st->out, "250 %s\r\n", host);
    } else {
        fprintf(st->out,
                "250-%s\r\n250-PIPELINING\r\n250-SIZE %s\r\n250-ENHANCEDSTATUSCODES\r\n"
                "250-8BITMIME\r\n250 DSN\r\n",
                host, config_get("message_size_limit"));
    }
    fflush(st->out);
}

static void cmd_mail(struct smtp_state *st, const char *args)
{
    const char *rest;
    if (st->have_mail) {
        reply(st, "503 5.5.1 Error: nested MAIL command");
        return;
    }
    if (path_arg(args, "FROM:", &st->sender, &rest) < 0 ||
        !sm_address_ok(st->sender.data ? st->sender.data : "")) {
        reply(st, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    st->have_mail = 1;
    reply(st, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct smtp_state *st, const char *args)
{
    struct str addr = STR_INIT;
    const char *rest;
    if (!st->have_mail) {
        reply(st, "503 5.5.1 Error: need MAIL command");
    } else if (path_arg(args, "TO:", &addr, &rest) < 0 || addr.len == 0 ||
               !sm_address_ok(str_cstr(&addr))) {
        reply(st, "501 5.5.4 Syntax: RCPT TO:<address>");
    } else if (st->rcpts->n >= SMTP_RCPT_LIMIT) {
        reply(st, "452 4.5.3 Error: too many recipients");
    } else {
        argv_add(st->rcpts, str_cstr(&addr));
        reply(st, "250 2.1.5 Ok");
    }
    str_release(&addr);
}

static void cmd_data(struct smtp_state *st, const char *args)
{
    (void)args;
    if (!st->have_mail) {
        reply(st, "503 5.5.1 Error: need RCPT command");
        return;
    }
    if (st->rcpts->n == 0) {
        reply(st, "554 5.5.1 Error: no valid recipients");
        return;
    }
    reply(st, "354 End data with <CR><LF>.<CR><LF>");
    struct sm_opts o = *st->opts;
    o.extract = 0;
    struct sm_submit *s = sm_submit_begin(&o, str_cstr(&st->sender), st->rcpts);
    struct sm_input_opts in = {(size_t)config_get_int("line_length_limit"), 1, 1, 0};
    int rc = sm_read_message(st->in, &in, sm_submit_put, s);
    if (rc != 1) {
        /* The client went away in the middle: postdrop sees no end record and removes it. */
        sm_submit_free(s);
        st->quit = 1;
        return;
    }
    int status = sm_submit_end(s);
    sm_submit_free(s);
    reply(st, status == 0 ? "250 2.0.0 Ok: queued" : "451 4.3.0 Error: queue file write error");
    reset(st);
}

static void cmd_rset(struct smtp_state *st, const char *args)
{
    (void)args;
    reset(st);
    reply(st, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_state *st, const char *args)
{
    (void)args;
    reply(st, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_state *st, const char *args)
{
    (void)args;
    reply(st, "221 2.0.0 Bye");
    st->quit = 1;
}

static void cmd_ehlo(struct smtp_state *st, const char *args)
{
    cmd_helo(st, args, 1);
}

static void cmd_helo_plain(struct smtp_state *st, const char *args)
{
    cmd_helo(st, args, 0);
}

static const struct {
    const char *name;
    void (*fn)(struct smtp_state *, const char *);
} commands[] = {
    {"EHLO", cmd_ehlo}, {"HELO", cmd_helo_plain}, {"MAIL", cmd_mail}, {"RCPT", cmd_rcpt},
    {"DATA", cmd_data}, {"RSET", cmd_rset},       {"NOOP", cmd_noop}, {"QUIT", cmd_quit},
};

static void dispatch(struct smtp_state *st, const char *line)
{
    size_t n = strcspn(line, " ");
    const char *args = line + n;
    while (*args == ' ')
        args++;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (n == 4 && strncasecmp(line, commands[i].name, 4) == 0) {
            commands[i].fn(st, args);
            return;
        }
    }
    st->errors++;
    reply(st, "502 5.5.2 Error: command not recognized");
}

int sm_smtp(FILE *in, FILE *out, const struct sm_opts *o)
{
    struct smtp_state st = {in, out, o, 0, STR_INIT, argv_new(), 0, 0, 0};
    struct str line = STR_INIT;
    int had_cr;
    fprintf(out, "220 %s\r\n", config_get("smtpd_banner"));
    fflush(out);
    while (!st.quit) {
        int rc = sm_getline(in, &line, SMTP_LINE_LIMIT, &had_cr);
        if (rc == 0)
            break;
        if (rc == 2) {
            reply(&st, "500 5.5.0 Error: line too long");
            while ((rc = sm_getline(in, &line, SMTP_LINE_LIMIT, &had_cr)) == 2)
                ;
            continue;
        }
        dispatch(&st, str_cstr(&line));
        if (st.errors >= SMTP_ERROR_LIMIT) {
            reply(&st, "421 4.7.0 Error: too many errors");
            break;
        }
    }
    str_release(&line);
    str_release(&st.sender);
    argv_free(st.rcpts);
    return 0;
}
