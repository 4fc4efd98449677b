/* smtpd: the SMTP server daemon (master.cf "smtp inet n - n - - smtpd"), one client per
 * process at a time: reads the configuration and compiles the access-control lists once per
 * process, then runs one session per connection (smtpd_session.c). */
#include "smtpd.h"

#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "service/server.h"

static struct smtpd_checker *checker;

static void post_init(const char *service)
{
    struct str err = STR_INIT;
    (void)service;
    smtpd_conf_load();
    checker = smtpd_checker_new(&err);
    if (!checker)
        msg_warn("access control configuration error: %s; every request is deferred",
                 str_cstr(&err));
    str_release(&err);
}

static int serve(struct stream *client, const char *service)
{
    (void)service;
    smtpd_session(client, checker);
    return SERVER_CLOSE;
}

static int should_exit(void)
{
    return checker && smtpd_checker_changed(checker);
}

static const struct server_ops ops = {
    .shape = SERVER_SINGLE,
    .post_init = post_init,
    .serve = serve,
    .should_exit = should_exit,
};

int main(int argc, char **argv)
{
    return server_main(argc, argv, &ops);
}
