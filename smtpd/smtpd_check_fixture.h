/* smtpd_check_fixture: the set-up shared by the unit tests of the access checks (test code
 * only, included by *_test.c): a checker built from a main.cf text, a context for one client,
 * and the reply buffer. Each test program gets its own copy of this state. */
#ifndef KESTREL_SMTPD_CHECK_FIXTURE_H
#define KESTREL_SMTPD_CHECK_FIXTURE_H

#include "base/str.h"
#include "mail/config.h"
#include "smtpd_check.h"

static struct smtpd_checker *checker;
static struct smtpd_check_ctx ctx;
static struct str reply;

/* main.cf = base + extra; a fresh checker and context for client addr saying helo (NULL:
 * none). Fails the test when the configuration or the checker is refused. */
static void fixture_setup(const char *base, const char *extra, const char *addr, const char *helo)
{
    struct str text = STR_INIT, err = STR_INIT;
    str_setf(&text, "%s%s", base, extra);
    config_reset();
    assert_int_equal(config_load_text("main.cf", text.data, text.len, &err), 0);
    if (checker)
        smtpd_checker_free(checker);
    checker = smtpd_checker_new(&err);
    if (!checker)
        fail_msg("checker: %s", err.data);
    str_release(&text);
    str_release(&err);
    smtpd_check_ctx_release(&ctx);
    smtpd_check_ctx_init(&ctx);
    ctx.client_addr = addr;
    ctx.helo_name = helo;
    ctx.protocol = "ESMTP";
}

static int teardown(void **state)
{
    (void)state;
    smtpd_checker_free(checker);
    checker = NULL;
    smtpd_check_ctx_release(&ctx);
    str_release(&reply);
    return 0;
}

#endif
