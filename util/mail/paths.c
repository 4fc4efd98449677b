/* paths: compiled-in directory defaults and their relocation for trees installed with DESTDIR. */
#include "mail/paths.h"

#include "base/mem.h"
#include "base/str.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DEF_CONFIG_DIR
#define DEF_CONFIG_DIR "/etc/postfix"
#endif
#ifndef DEF_QUEUE_DIR
#define DEF_QUEUE_DIR "/var/spool/postfix"
#endif
#ifndef DEF_COMMAND_DIR
#define DEF_COMMAND_DIR "/usr/sbin"
#endif
#ifndef DEF_DAEMON_DIR
#define DEF_DAEMON_DIR "/usr/libexec/postfix"
#endif
#ifndef DEF_DATA_DIR
#define DEF_DATA_DIR "/var/lib/postfix"
#endif
#ifndef DEF_MAIL_SPOOL_DIR
#define DEF_MAIL_SPOOL_DIR "/var/mail"
#endif
#ifndef DEF_SENDMAIL_PATH
#define DEF_SENDMAIL_PATH "/usr/sbin/sendmail"
#endif
#ifndef DEF_NEWALIASES_PATH
#define DEF_NEWALIASES_PATH "/usr/bin/newaliases"
#endif
#ifndef DEF_MAILQ_PATH
#define DEF_MAILQ_PATH "/usr/bin/mailq"
#endif

static struct path_entry {
    const char *name;
    const char *builtin;
    char *value; /* relocated copy, computed on first use */
} path_table[] = {
    {"config_directory", DEF_CONFIG_DIR, NULL},
    {"queue_directory", DEF_QUEUE_DIR, NULL},
    {"command_directory", DEF_COMMAND_DIR, NULL},
    {"daemon_directory", DEF_DAEMON_DIR, NULL},
    {"data_directory", DEF_DATA_DIR, NULL},
    {"mail_spool_directory", DEF_MAIL_SPOOL_DIR, NULL},
    {"sendmail_path", DEF_SENDMAIL_PATH, NULL},
    {"newaliases_path", DEF_NEWALIASES_PATH, NULL},
    {"mailq_path", DEF_MAILQ_PATH, NULL},
};

#define PATH_COUNT (sizeof(path_table) / sizeof(path_table[0]))

static char *root;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* If `dir` of `exe` ends with `suffix` (a directory default), return the prefix length. */
static long root_length(const char *exedir, const char *suffix)
{
    size_t dl = strlen(exedir), sl = strlen(suffix);
    if (sl == 0 || sl >= dl || strcmp(exedir + dl - sl, suffix) != 0)
        return -1;
    return (long)(dl - sl);
}

static char *find_root(const char *exe)
{
    char buf[PATH_MAX + 1];
    if (exe == NULL) {
        ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        if (n <= 0)
            return xstrdup("");
        buf[n] = 0;
        exe = buf;
    }
    const char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return xstrdup("");
    char *exedir = xstrndup(exe, (size_t)(slash - exe));
    const char *dirs[] = {DEF_COMMAND_DIR, DEF_DAEMON_DIR};
    char *result = xstrdup("");
    for (size_t i = 0; i < 2; i++) {
        long len = root_length(exedir, dirs[i]);
        if (len <= 0)
            continue;
        struct str conf = STR_INIT;
        str_appendn(&conf, exedir, (size_t)len);
        str_append(&conf, DEF_CONFIG_DIR);
        if (is_dir(conf.data)) {
            free(result);
            result = xstrndup(exedir, (size_t)len);
            str_release(&conf);
            break;
        }
        str_release(&conf);
    }
    free(exedir);
    return result;
}

void paths_reset(const char *exe)
{
    free(root);
    root = find_root(exe);
    for (size_t i = 0; i < PATH_COUNT; i++) {
        free(path_table[i].value);
        path_table[i].value = NULL;
    }
}

const char *paths_root(void)
{
    if (root == NULL)
        root = find_root(NULL);
    return root;
}

const char *paths_default(const char *name)
{
    for (size_t i = 0; i < PATH_COUNT; i++) {
        struct path_entry *p = &path_table[i];
        if (strcmp(p->name, name) != 0)
            continue;
        if (p->value == NULL) {
            struct str s = STR_INIT;
            str_append(&s, paths_root());
            str_append(&s, p->builtin);
            p->value = str_steal(&s);
        }
        return p->value;
    }
    return NULL;
}
