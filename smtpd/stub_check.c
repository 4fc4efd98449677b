/* stub_check: a temporary stand-in for the access-control engine (smtpd_check.h) until the
 * real one lands on main: every check permits. To be deleted. */
#include "smtpd_check.h"

#include <stdlib.h>
#include <string.h>

struct smtpd_checker {
    int dummy;
};

struct smtpd_checker *smtpd_checker_new(struct str *err)
{
    (void)err;
    return calloc(1, sizeof(struct smtpd_checker));
}
void smtpd_checker_free(struct smtpd_checker *c)
{
    free(c);
}
int smtpd_checker_changed(struct smtpd_checker *c)
{
    (void)c;
    return 0;
}
void smtpd_check_ctx_init(struct smtpd_check_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
}
void smtpd_check_ctx_reset(struct smtpd_check_ctx *ctx)
{
    ctx->queue_id = ctx->sender = ctx->recipient = ctx->etrn_domain = NULL;
    ctx->recipient_count = 0;
    ctx->message_size = 0;
    memset(&ctx->actions, 0, sizeof(ctx->actions));
}
void smtpd_check_ctx_release(struct smtpd_check_ctx *ctx)
{
    smtpd_check_ctx_reset(ctx);
}
#define STUB(name)                                                                                 \
    int name(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)              \
    {                                                                                              \
        (void)c, (void)ctx, (void)reply;                                                           \
        return SMTPD_CHECK_OK;                                                                     \
    }
STUB(smtpd_check_client)
STUB(smtpd_check_helo)
STUB(smtpd_check_mail)
STUB(smtpd_check_rcpt)
STUB(smtpd_check_data)
STUB(smtpd_check_eod)
STUB(smtpd_check_etrn)
STUB(smtpd_check_vrfy)
STUB(smtpd_check_rcpt_maps)
int smtpd_check_debug_peer(struct smtpd_checker *c, const struct smtpd_check_ctx *ctx)
{
    (void)c, (void)ctx;
    return 0;
}
