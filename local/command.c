/* command: delivery to "|command" targets and to mailbox_command: runs /bin/sh -c (or
 * local_command_shell) as the recipient or the alias owner, never as root, with the message
 * on stdin, the environment Postfix documents, a time limit, and maps the exit status per
 * sysexits (75 and 71 defer; other sysexits codes and other statuses bounce). */
#include "local.h"

#include "base/exec.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <ctype.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int command_filter_ok(const char *filter, const char *s)
{
    for (; *s; s++)
        if (strchr(filter, *s) == NULL)
            return 0;
    return 1;
}

/* Adds NAME=value, with bytes outside the filter replaced by '_'. */
static void env_add(struct argv *env, const char *filter, const char *name, const char *value)
{
    struct str e = STR_INIT;
    str_appendf(&e, "%s=", name);
    for (const char *c = value ? value : ""; *c; c++)
        str_appendc(&e, (filter && *filter && !strchr(filter, *c)) ? '_' : *c);
    argv_add(env, e.data);
    str_release(&e);
}

/* Command output for a reason text: printable, one line, at most 200 bytes. */
static void append_output(struct str *reason, const struct str *out)
{
    struct str clean = STR_INIT;
    for (size_t i = 0; i < out->len && clean.len < 200; i++) {
        unsigned char c = (unsigned char)out->data[i];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (isprint(c))
            str_appendc(&clean, c);
    }
    str_trim_right(&clean);
    if (clean.len)
        str_appendf(reason, ". Command output: %s", clean.data);
    str_release(&clean);
}

static struct argv *command_env(const struct local_params *p, struct mail_message *m,
                                struct local_rcpt *rc, const struct local_user *u,
                                const char *user_part, const char *ext, const char *domain)
{
    extern char **environ;
    struct argv *names = argv_split(p->export_environment ? p->export_environment : "", " ,\t");
    argv_add(names, NULL == getenv("PATH") ? "PATH=/usr/bin:/bin" : "PATH");
    struct argv *env = exec_env_filter(environ, (const char *const *)names->v);
    argv_free(names);
    const char *f = p->command_expansion_filter;
    const char *local = rc->address;
    struct str lp = STR_INIT;
    const char *at = strrchr(local, '@');
    str_appendn(&lp, local, at ? (size_t)(at - local) : strlen(local));
    env_add(env, NULL, "HOME", u->home);
    env_add(env, f, "USER", u->name);
    env_add(env, NULL, "SHELL", u->shell);
    env_add(env, f, "LOGNAME", u->name);
    env_add(env, f, "SENDER", m->sender);
    env_add(env, f, "RECIPIENT", rc->address);
    env_add(env, f, "EXTENSION", ext);
    env_add(env, f, "DOMAIN", domain);
    env_add(env, f, "LOCAL", lp.data);
    env_add(env, f, "ORIGINAL_RECIPIENT", rc->orig);
    (void)user_part;
    str_release(&lp);
    return env;
}

/* Runs the command and reports the outcome. */
static void run_command(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                        const char *cmd, const struct local_user *u, struct argv *env,
                        int copy_flags)
{
    struct str input = STR_INIT, why = STR_INIT, reason = STR_INIT;
    struct exec_spec spec;
    struct exec_result res;
    char dsn[16];
    const char *text;
    if (message_copy_to_str(m, &input, rc->address, rc->orig, copy_flags, &why) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "%s", why.data);
        goto out;
    }
    char *sh_argv[] = {(char *)p->shell, "-c", (char *)cmd, NULL};
    exec_spec_init(&spec);
    if (p->shell && *p->shell)
        spec.argv = sh_argv;
    else
        spec.command = cmd;
    spec.envp = env->v;
    spec.cwd = access(u->home, X_OK) == 0 ? u->home : "/";
    spec.set_ids = getuid() == 0 || geteuid() == 0;
    spec.uid = u->uid;
    spec.gid = u->gid;
    spec.stdin_data = input.data ? input.data : "";
    spec.stdin_len = input.len;
    spec.output_limit = 4096;
    spec.time_limit_ms = p->command_time_limit_ms;
    if (exec_run(&spec, &res, &why) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot run command \"%s\": %s", cmd,
                     why.data);
        goto out;
    }
    if (res.how == EXEC_TIMEDOUT) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "Command time limit exceeded: \"%s\"", cmd);
    } else if (res.how == EXEC_SIGNALED) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "Command died with signal %d: \"%s\"",
                     res.signo, cmd);
    } else {
        int st = sysexits_map(res.exit_status, dsn, sizeof(dsn), &text);
        if (st == LOCAL_SENT) {
            local_report(m, rc, st, dsn, "delivered to command: %s", cmd);
        } else {
            if (text)
                str_set(&reason, text);
            else
                str_setf(&reason, "Command died with status %d: \"%s\"", res.exit_status, cmd);
            append_output(&reason, &res.output);
            local_report(m, rc, st, dsn, "%s", reason.data);
        }
    }
    exec_result_free(&res);
out:
    str_release(&input);
    str_release(&why);
    str_release(&reason);
}

void command_deliver(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const char *cmd, const struct local_user *u, const char *user_part,
                     const char *extension, const char *domain, int mailbox_command)
{
    struct local_user owner = {0};
    struct str seen = STR_INIT, ubuf = STR_INIT, ebuf = STR_INIT, dbuf = STR_INIT;
    str_setf(&seen, "command:%s", cmd);
    for (size_t i = 0; i < rc->seen->n; i++)
        if (strcmp(rc->seen->v[i], seen.data) == 0)
            goto out;
    argv_add(rc->seen, seen.data);
    if (!mailbox_command && !(rc->exp_class & p->mail_to_commands)) {
        local_report(m, rc, LOCAL_BOUNCED, "5.7.1", "mail to command is restricted");
        goto out;
    }
    if (u == NULL) {
        uid_t uid = rc->have_owner ? rc->owner_uid : p->default_uid;
        gid_t gid = rc->have_owner ? rc->owner_gid : p->default_gid;
        if (uid == 0) {
            uid = p->default_uid;
            gid = p->default_gid;
        }
        struct passwd *pw = getpwuid(uid);
        owner.name = xstrdup(pw ? pw->pw_name : "nobody");
        owner.home = xstrdup(pw ? pw->pw_dir : "/");
        owner.shell = xstrdup(pw ? pw->pw_shell : "");
        owner.uid = uid;
        owner.gid = gid;
        u = &owner;
        recipient_split(p, rc->address, &ubuf, &ebuf, &dbuf);
        user_part = ubuf.data;
        extension = str_cstr(&ebuf);
        domain = str_cstr(&dbuf);
    }
    if (u->uid == 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0",
                     "mail system configuration error: refusing to run a command as root");
        goto out;
    }
    struct argv *env = command_env(p, m, rc, u, user_part, extension, domain);
    int flags = COPY_FROM_LINE | COPY_RETURN_PATH | COPY_ORIG_RCPT;
    if (mailbox_command || (p->prepend_delivered & PREPEND_COMMAND))
        flags |= COPY_DELIVERED;
    run_command(p, m, rc, cmd, u, env, flags);
    argv_free(env);
out:
    if (owner.name)
        local_user_free(&owner);
    str_release(&seen);
    str_release(&ubuf);
    str_release(&ebuf);
    str_release(&dbuf);
}
