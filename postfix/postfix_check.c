/* postfix_check: the configuration and queue-directory checks behind `postfix check`, `start`
 * and `reload`, and the `set-permissions` and `upgrade-configuration` commands. */
#include "postfix.h"

#include "base/argv.h"
#include "base/str.h"
#include "mail/config.h"
#include "mail/config_check.h"
#include "mail/queue_layout.h"

#include <sys/stat.h>
#include <unistd.h>

int postfix_validate(const struct postfix_env *env)
{
    struct argv *errors = argv_new();
    int count = config_check_dir(env->config_dir, errors);
    for (size_t i = 0; i < errors->n; i++)
        pf_error("%s", errors->v[i]);
    if ((size_t)count > errors->n)
        pf_error("%zu more configuration errors not shown", (size_t)count - errors->n);
    argv_free(errors);
    return count ? -1 : 0;
}

static void warn_cb(const char *text, void *ctx)
{
    (void)ctx;
    pf_warn("%s", text);
}

/* main.cf and master.cf: writable only by their owner, and owned by root when we are root. */
static void check_config_files(const struct postfix_env *env)
{
    static const char *const files[] = {"main.cf", "master.cf"};
    struct str path = STR_INIT;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        str_setf(&path, "%s/%s", env->config_dir, files[i]);
        struct stat st;
        if (stat(path.data, &st) < 0)
            continue;
        if (geteuid() == 0 && st.st_uid != 0)
            pf_warn("not owned by root: %s", path.data);
        if (st.st_mode & 022)
            pf_warn("group or other writable: %s", path.data);
    }
    str_release(&path);
}

static int init_layout(struct queue_layout *q, const struct postfix_env *env)
{
    struct str err = STR_INIT;
    int rc = queue_layout_init(q, env->queue_dir, config_get("mail_owner"),
                               config_get("setgid_group"), &err);
    if (rc < 0)
        pf_error("%s", err.data);
    str_release(&err);
    return rc;
}

int postfix_queue_check(const struct postfix_env *env)
{
    struct queue_layout q;
    if (init_layout(&q, env) < 0)
        return -1;
    struct str err = STR_INIT;
    int rc = queue_layout_create(&q, &err);
    if (rc < 0)
        pf_error("%s", err.data);
    else
        queue_layout_check(&q, warn_cb, NULL);
    check_config_files(env);
    str_release(&err);
    queue_layout_release(&q);
    return rc;
}

int postfix_check(const struct postfix_env *env)
{
    if (postfix_validate(env) != 0)
        return 1;
    return postfix_queue_check(env) < 0 ? 1 : 0;
}

int postfix_set_permissions(const struct postfix_env *env)
{
    struct queue_layout q;
    if (init_layout(&q, env) < 0)
        return 1;
    struct str err = STR_INIT;
    int rc = queue_layout_set_permissions(&q, &err);
    if (rc < 0)
        pf_error("%s", err.data);
    str_release(&err);
    queue_layout_release(&q);
    return rc < 0 ? 1 : 0;
}

int postfix_upgrade_configuration(const struct postfix_env *env)
{
    (void)env; /* main.cf and master.cf need no upgrade: nothing to do */
    return 0;
}
