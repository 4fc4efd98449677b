/* sendmail: the Sendmail-compatible front end of local submission. As "sendmail" it reads a
 * message and hands it to postdrop; -bs speaks SMTP on stdin/stdout; -bp (mailq) and -q run
 * postqueue; -bi (newaliases) rebuilds alias_database; -bv reports what would happen. */
#include "sendmail.h"

#include "base/log.h"
#include "mail/command_config.h"
#include "mail/config.h"
#include "mail/user_acl.h"
#include "table/table_build.h"

#include <errno.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void load_config(const char *dir)
{
    struct str err = STR_INIT, d = STR_INIT;
    struct stat st;
    /* -C names a main.cf file or its directory. */
    if (dir && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        const char *slash = strrchr(dir, '/');
        str_appendn(&d, dir, slash ? (size_t)(slash - dir) : 0);
        if (d.len == 0)
            str_set(&d, slash ? "/" : ".");
        dir = str_cstr(&d);
    }
    if (config_load(dir, &err) < 0)
        msg_fatal_status(EX_CONFIG, "%s", str_cstr(&err));
    command_log_open();
    str_release(&err);
    str_release(&d);
}

static noreturn void run_postqueue(const struct sm_opts *o, const char *flag, const char *arg)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/postqueue", config_get("command_directory"));
    char *args[8];
    int n = 0;
    args[n++] = path.data;
    if (o->config_dir) {
        args[n++] = "-c";
        args[n++] = (char *)config_directory();
    }
    args[n++] = (char *)flag;
    if (arg)
        args[n++] = (char *)arg;
    args[n] = NULL;
    fflush(NULL);
    execv(path.data, args);
    msg_fatal_status(EX_TEMPFAIL, "execute %s: %s", path.data, strerror(errno));
}

static int newaliases(void)
{
    struct argv *dbs = argv_split(config_get("alias_database"), ", \t\r\n");
    struct table_build_opts opts = {.syntax = TABLE_SYNTAX_ALIASES, .fold = 1};
    struct str err = STR_INIT, spec = STR_INIT;
    int status = 0;
    for (size_t i = 0; i < dbs->n; i++) {
        const char *colon = strchr(dbs->v[i], ':');
        const char *slash = strchr(dbs->v[i], '/');
        if (colon && (slash == NULL || colon < slash))
            str_set(&spec, dbs->v[i]);
        else
            str_setf(&spec, "%s:%s", config_get("default_database_type"), dbs->v[i]);
        if (table_build(str_cstr(&spec), &opts, &err) < 0) {
            msg_error("%s", str_cstr(&err));
            status = EX_TEMPFAIL;
        }
    }
    argv_free(dbs);
    str_release(&err);
    str_release(&spec);
    return status;
}

/* -bv, the simple form: says which recipients would be accepted for delivery. */
static int verify(const struct sm_opts *o)
{
    if (o->rcpts->n == 0)
        msg_fatal_status(EX_USAGE,
                         "%s(%ld): Recipient addresses must be specified on the "
                         "command line or via the -t option",
                         sm_login_name(), (long)getuid());
    for (size_t i = 0; i < o->rcpts->n; i++)
        printf("%s: deliverable: would be submitted for delivery\n", o->rcpts->v[i]);
    return 0;
}

static int deliver(const struct sm_opts *o)
{
    const char *sender = o->sender ? o->sender : sm_login_name();
    if (strcmp(sender, "<>") == 0)
        sender = "";
    if (o->rcpts->n == 0 && !o->extract)
        msg_fatal_status(EX_USAGE,
                         "%s(%ld): Recipient addresses must be specified on the "
                         "command line or via the -t option",
                         sm_login_name(), (long)getuid());
    struct sm_submit *s = sm_submit_begin(o, sender, o->rcpts);
    long limit = config_get_int("line_length_limit");
    struct sm_input_opts in = {limit > 0 ? (size_t)limit : 2048, !o->dot_ok, 0, 1};
    if (sm_read_message(stdin, &in, sm_submit_put, s) < 0)
        msg_fatal_status(EX_NOINPUT, "%s(%ld): error reading input: %s", sm_login_name(),
                         (long)getuid(), strerror(errno));
    int status = sm_submit_end(s);
    sm_submit_free(s);
    return status;
}

int main(int argc, char **argv)
{
    struct sm_opts o;
    struct str err = STR_INIT;
    log_init("sendmail");
    log_set_stderr(1);
    signal(SIGPIPE, SIG_IGN);
    if (sm_parse_args(argc, argv, &o, &err) < 0)
        msg_fatal_status(EX_USAGE, "%s", str_cstr(&err));
    load_config(o.config_dir);
    switch (o.mode) {
    case SM_MODE_MAILQ:
        run_postqueue(&o, "-p", NULL);
    case SM_MODE_FLUSH:
        if (o.queue_site)
            run_postqueue(&o, "-s", o.queue_site);
        if (o.queue_id)
            run_postqueue(&o, "-i", o.queue_id);
        run_postqueue(&o, "-f", NULL);
    case SM_MODE_NEWALIASES:
        return newaliases();
    case SM_MODE_VERIFY:
        return verify(&o);
    case SM_MODE_SMTP:
        user_acl_require("authorized_submit_users", "submit mail", 0);
        return sm_smtp(stdin, stdout, &o);
    case SM_MODE_DELIVER:
        break;
    }
    user_acl_require("authorized_submit_users", "submit mail", 0);
    int status = deliver(&o);
    argv_free(o.rcpts);
    str_release(&err);
    return status;
}
