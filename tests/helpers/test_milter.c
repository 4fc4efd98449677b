/* test_milter: a mail filter built on Debian's libmilter for the end-to-end tests.
 *
 *     test_milter SOCKET LOGFILE ACTION[,ACTION...]
 *
 * SOCKET is libmilter's form (unix:/path or inet:port@127.0.0.1). Every event is appended to
 * LOGFILE ("connect localhost 127.0.0.1", "macro i=ID", "header Subject: x", "body 12",
 * "eom"), so a test can check what the MTA sent. ACTIONs (at end of message unless noted):
 *   accept, continue, reject, reject=TEXT ("550 5.7.1 ..." via smfi_setreply), tempfail,
 *   discard, quarantine=REASON, addheader=NAME:VALUE, insheader=NAME:VALUE (at position 0),
 *   chgheader=NAME:VALUE (first NAME), delheader=NAME, replbody=TEXT ("\n" for newlines),
 *   addrcpt=ADDR, addrcpt_par=ADDR, delrcpt=ADDR, chgfrom=ADDR, rejectrcpt=ADDR (at RCPT),
 *   rejectconnect, tempfailconnect, rejecthelo, rejectmail=ADDR, discardmail=ADDR,
 *   tempfaildata, rejectunknown (at those stages),
 *   eicar-reject (reject when the body holds the EICAR test string), eicar-tag (add
 *   "X-Virus-Status: Infected" then, "Clean" otherwise), die-in-body (exit while replacing the
 *   body), sleep=N (before answering end of message). */
#include <libmilter/mfapi.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *logfile;
static char **actions;
static int nactions;

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

struct priv {
    char *body;
    size_t len;
};

static void logf_(const char *fmt, ...)
{
    FILE *fp = fopen(logfile, "a");
    if (fp == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(fp, fmt, ap);
    va_end(ap);
    fputc('\n', fp);
    fclose(fp);
}

static const char *action_arg(const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < nactions; i++)
        if (strncmp(actions[i], name, n) == 0 && (actions[i][n] == '=' || actions[i][n] == 0))
            return actions[i][n] == '=' ? actions[i] + n + 1 : "";
    return NULL;
}

static void log_macro(SMFICTX *ctx, const char *name)
{
    char *v = smfi_getsymval(ctx, (char *)name);
    if (v)
        logf_("macro %s=%s", name, v);
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)sa;
    struct priv *p = calloc(1, sizeof(*p));
    smfi_setpriv(ctx, p);
    logf_("connect %s", host);
    log_macro(ctx, "j");
    log_macro(ctx, "{daemon_name}");
    log_macro(ctx, "v");
    log_macro(ctx, "{client_addr}");
    log_macro(ctx, "_");
    log_macro(ctx, "{daemon_addr}");
    if (action_arg("rejectconnect")) {
        smfi_setreply(ctx, "554", "5.7.1", "Go away");
        return SMFIS_REJECT;
    }
    if (action_arg("tempfailconnect"))
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
    (void)ctx;
    logf_("helo %s", helo);
    log_macro(ctx, "{tls_version}");
    if (action_arg("rejecthelo")) {
        smfi_setreply(ctx, "550", "5.7.1", "Bad HELO");
        return SMFIS_REJECT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_mail(SMFICTX *ctx, char **argv)
{
    struct priv *p = smfi_getpriv(ctx);
    if (p) /* a new message on the same connection */
        p->len = 0;
    logf_("mail %s", argv[0]);
    log_macro(ctx, "{mail_addr}");
    log_macro(ctx, "i");
    log_macro(ctx, "{auth_authen}");
    const char *r = action_arg("rejectmail");
    if (r && strstr(argv[0], r)) {
        smfi_setreply(ctx, "553", "5.7.1", "Sender refused");
        return SMFIS_REJECT;
    }
    r = action_arg("discardmail");
    if (r && strstr(argv[0], r))
        return SMFIS_DISCARD;
    for (int i = 1; argv[i]; i++)
        logf_("mail arg %s", argv[i]);
    return SMFIS_CONTINUE;
}

static sfsistat on_data(SMFICTX *ctx)
{
    logf_("data");
    log_macro(ctx, "i");
    if (action_arg("tempfaildata"))
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat on_unknown(SMFICTX *ctx, const char *cmd)
{
    logf_("unknown %s", cmd);
    if (action_arg("rejectunknown")) {
        smfi_setreply(ctx, "502", "5.5.2", "Not that either");
        return SMFIS_REJECT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_rcpt(SMFICTX *ctx, char **argv)
{
    logf_("rcpt %s", argv[0]);
    log_macro(ctx, "{rcpt_addr}");
    const char *r = action_arg("rejectrcpt");
    if (r && strstr(argv[0], r)) {
        smfi_setreply(ctx, "550", "5.1.1", "No such user here");
        return SMFIS_REJECT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx;
    logf_("header %s: %s", name, value);
    return SMFIS_CONTINUE;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    (void)ctx;
    logf_("eoh");
    return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct priv *p = smfi_getpriv(ctx);
    p->body = realloc(p->body, p->len + len + 1);
    memcpy(p->body + p->len, chunk, len);
    p->len += len;
    p->body[p->len] = 0;
    logf_("body %zu", len);
    return SMFIS_CONTINUE;
}

static void split_nv(const char *arg, char *name, size_t max, const char **value)
{
    const char *c = strchr(arg, ':');
    size_t n = c ? (size_t)(c - arg) : strlen(arg);
    if (n >= max)
        n = max - 1;
    memcpy(name, arg, n);
    name[n] = 0;
    *value = c ? c + 1 : "";
}

static void header_edits(SMFICTX *ctx)
{
    char name[256];
    const char *v, *a;
    if ((a = action_arg("addheader"))) {
        split_nv(a, name, sizeof(name), &v);
        smfi_addheader(ctx, name, (char *)v);
    }
    if ((a = action_arg("insheader"))) {
        split_nv(a, name, sizeof(name), &v);
        smfi_insheader(ctx, 0, name, (char *)v);
    }
    if ((a = action_arg("chgheader"))) {
        split_nv(a, name, sizeof(name), &v);
        smfi_chgheader(ctx, name, 1, (char *)v);
    }
    if ((a = action_arg("delheader")))
        smfi_chgheader(ctx, (char *)a, 1, NULL);
}

static void replace_body(SMFICTX *ctx, const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n * 2 + 3);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\\' && text[i + 1] == 'n') {
            out[o++] = '\r';
            out[o++] = '\n';
            i++;
        } else
            out[o++] = text[i];
    }
    smfi_replacebody(ctx, (unsigned char *)out, (int)o);
    free(out);
}

static sfsistat envelope_edits(SMFICTX *ctx)
{
    const char *a;
    if ((a = action_arg("addrcpt")))
        smfi_addrcpt(ctx, (char *)a);
    if ((a = action_arg("addrcpt_par")))
        smfi_addrcpt_par(ctx, (char *)a, "NOTIFY=NEVER");
    if ((a = action_arg("delrcpt")))
        smfi_delrcpt(ctx, (char *)a);
    if ((a = action_arg("chgfrom")))
        smfi_chgfrom(ctx, (char *)a, NULL);
    if ((a = action_arg("quarantine")))
        smfi_quarantine(ctx, (char *)(*a ? a : "test quarantine"));
    return SMFIS_CONTINUE;
}

static sfsistat verdict(SMFICTX *ctx, int infected)
{
    const char *a;
    if (action_arg("eicar-reject") && infected) {
        smfi_setreply(ctx, "554", "5.7.1", "Virus found: Eicar-Test-Signature");
        return SMFIS_REJECT;
    }
    if ((a = action_arg("reject"))) {
        if (*a)
            smfi_setreply(ctx, "550", "5.7.1", (char *)a);
        return SMFIS_REJECT;
    }
    if (action_arg("tempfail"))
        return SMFIS_TEMPFAIL;
    if (action_arg("discard"))
        return SMFIS_DISCARD;
    if (action_arg("accept"))
        return SMFIS_ACCEPT;
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    struct priv *p = smfi_getpriv(ctx);
    const char *a;
    int infected = p && p->body && strstr(p->body, eicar) != NULL;
    logf_("eom");
    log_macro(ctx, "i");
    if ((a = action_arg("sleep")))
        sleep((unsigned)atoi(a));
    if (action_arg("eicar-tag"))
        smfi_addheader(ctx, "X-Virus-Status", infected ? "Infected" : "Clean");
    header_edits(ctx);
    envelope_edits(ctx);
    if ((a = action_arg("replbody")))
        replace_body(ctx, a);
    if (action_arg("die-in-body")) {
        smfi_replacebody(ctx, (unsigned char *)"partial body\r\n", 14);
        _exit(1);
    }
    return verdict(ctx, infected);
}

static sfsistat on_abort(SMFICTX *ctx)
{
    struct priv *p = smfi_getpriv(ctx);
    if (p) {
        free(p->body);
        p->body = NULL;
        p->len = 0;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    struct priv *p = smfi_getpriv(ctx);
    if (p) {
        free(p->body);
        free(p);
        smfi_setpriv(ctx, NULL);
    }
    logf_("close");
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_milter SOCKET LOGFILE ACTION[,ACTION...]\n");
        return 2;
    }
    logfile = argv[2];
    char *list = strdup(argv[3]);
    actions = calloc(64, sizeof(*actions));
    for (char *t = strtok(list, ","); t && nactions < 64; t = strtok(NULL, ","))
        actions[nactions++] = t;
    struct smfiDesc desc = {
        .xxfi_name = "kestrel-test",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT |
                      SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_CHGFROM,
        .xxfi_connect = on_connect,
        .xxfi_helo = on_helo,
        .xxfi_envfrom = on_mail,
        .xxfi_envrcpt = on_rcpt,
        .xxfi_header = on_header,
        .xxfi_eoh = on_eoh,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_abort,
        .xxfi_data = on_data,
        .xxfi_unknown = on_unknown,
        .xxfi_close = on_close,
    };
    if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
        fprintf(stderr, "test_milter: cannot set up %s\n", argv[1]);
        return 1;
    }
    smfi_opensocket(1);
    logf_("ready");
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
