/* cleanup_state: the per-message state (creation, release, failure bookkeeping) and the
 * daemon configuration loaded from main.cf. */
#include "cleanup.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>

struct cleanup_config cleanup_cfg;

void cleanup_state_init(struct cleanup_state *st, int flags)
{
    memset(st, 0, sizeof(*st));
    st->flags = flags;
    st->arrival = time(NULL);
    st->attr_names = argv_new();
    st->attr_values = argv_new();
    st->extracted = argv_new();
    st->resent_extracted = argv_new();
    st->final_names = argv_new();
    st->final_values = argv_new();
    st->bcc = argv_new();
    for (size_t i = 0; i < sizeof(st->milter_fds) / sizeof(st->milter_fds[0]); i++)
        st->milter_fds[i] = -1;
}

static void rcpt_release(struct cleanup_rcpt *r)
{
    free(r->addr);
    free(r->orig);
    free(r->orcpt);
}

void cleanup_state_release(struct cleanup_state *st)
{
    str_release(&st->reason);
    str_release(&st->sender);
    str_release(&st->message_id);
    str_release(&st->line);
    argv_free(st->attr_names);
    argv_free(st->attr_values);
    argv_free(st->extracted);
    argv_free(st->resent_extracted);
    argv_free(st->final_names);
    argv_free(st->final_values);
    argv_free(st->bcc);
    for (size_t i = 0; i < st->rcpts.n; i++)
        rcpt_release(&st->rcpts.v[i]);
    free(st->rcpts.v);
    rcpt_release(&st->pending);
    for (size_t i = 0; i < st->nhdr; i++)
        str_release(&st->hdrs[i].text);
    free(st->hdrs);
    cleanup_milter_release(st);
    cleanup_mime_release(st);
    memset(st, 0, sizeof(*st));
}

void cleanup_fail(struct cleanup_state *st, int status, const char *reason)
{
    if (st->status == 0 && reason)
        str_set(&st->reason, reason);
    st->status |= status;
}

const char *cleanup_attr(const struct cleanup_state *st, const char *name)
{
    for (size_t i = 0; i < st->attr_names->n; i++)
        if (strcmp(st->attr_names->v[i], name) == 0)
            return st->attr_values->v[i];
    return NULL;
}

static int parse_classes(const char *param)
{
    static const struct {
        const char *name;
        int bit;
    } names[] = {
        {"envelope_sender", CLASS_ENV_SENDER},
        {"envelope_recipient", CLASS_ENV_RCPT},
        {"header_sender", CLASS_HDR_SENDER},
        {"header_recipient", CLASS_HDR_RCPT},
    };
    const char *value = config_get(param);
    struct argv *words = argv_split(value ? value : "", ", \t\r\n");
    int bits = 0;
    for (size_t i = 0; i < words->n; i++) {
        size_t j;
        for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
            if (strcmp(words->v[i], names[j].name) == 0)
                bits |= names[j].bit;
        if (bits == 0 && j == sizeof(names) / sizeof(names[0]))
            msg_warn("%s: unknown address class: %s", param, words->v[i]);
    }
    argv_free(words);
    return bits;
}

static struct maps *open_maps(const char *param, int flags)
{
    const char *value = config_get(param);
    if (value == NULL || value[strspn(value, ", \t\r\n")] == 0)
        return NULL;
    return maps_open(param, value, flags);
}

static struct argv *word_list(const char *param)
{
    const char *value = config_get(param);
    return argv_split(value ? value : "", ", \t\r\n");
}

/* The plain domain names of mydestination (for the virtual(5) "user" lookups). */
static struct argv *local_domains(void)
{
    struct argv *all = word_list("mydestination"), *out = argv_new();
    for (size_t i = 0; i < all->n; i++)
        if (strchr(all->v[i], ':') == NULL && all->v[i][0] != '/')
            argv_add(out, all->v[i]);
    argv_free(all);
    return out;
}

void cleanup_config_load(void)
{
    struct cleanup_config *c = &cleanup_cfg;
    c->myhostname = config_get("myhostname");
    c->myorigin = config_get("myorigin");
    c->mydomain = config_get("mydomain");
    c->mail_name = config_get("mail_name");
    c->undisclosed_header = config_get("undisclosed_recipients_header");
    c->header_from_format = config_get("header_from_format");
    c->remote_header_domain = config_get("remote_header_rewrite_domain");
    c->recipient_delimiter = config_get("recipient_delimiter");
    c->propagate_ext = config_get("propagate_unmatched_extensions");
    c->append_at_myorigin = config_get_bool("append_at_myorigin");
    c->append_dot_mydomain = config_get_bool("append_dot_mydomain");
    c->always_add = config_get_bool("always_add_missing_headers");
    c->enable_orig = config_get_bool("enable_original_recipient");
    c->message_size_limit = (long)config_get_size("message_size_limit");
    c->header_size_limit = (long)config_get_size("header_size_limit");
    c->token_limit = config_get_int("header_address_token_limit");
    c->line_length_limit = config_get_int("line_length_limit");
    c->hopcount_limit = config_get_int("hopcount_limit");
    c->dup_limit = config_get_int("duplicate_filter_limit");
    c->virt_recursion = config_get_int("virtual_alias_recursion_limit");
    c->virt_expansion = config_get_int("virtual_alias_expansion_limit");
    c->body_checks_size_limit = (long)config_get_size("body_checks_size_limit");
    c->queue_minfree = config_get_size("queue_minfree");
    c->delay_warning_time = config_get_time("delay_warning_time");
    if (c->header_size_limit <= 0)
        c->header_size_limit = 102400;
    c->canonical = open_maps("canonical_maps", TABLE_FLAG_FOLD_KEY);
    c->send_canon = open_maps("sender_canonical_maps", TABLE_FLAG_FOLD_KEY);
    c->rcpt_canon = open_maps("recipient_canonical_maps", TABLE_FLAG_FOLD_KEY);
    c->virtual_alias = open_maps("virtual_alias_maps", TABLE_FLAG_FOLD_KEY);
    c->header_checks = open_maps("header_checks", 0);
    c->mime_header_checks = open_maps("mime_header_checks", 0);
    c->nested_header_checks = open_maps("nested_header_checks", 0);
    c->body_checks = open_maps("body_checks", 0);
    c->milter_header_checks = open_maps("milter_header_checks", 0);
    c->disable_mime = config_get_bool("disable_mime_input_processing");
    c->strict_7bit_headers = config_get_bool("strict_7bit_headers");
    c->strict_8bitmime = config_get_bool("strict_8bitmime");
    c->strict_8bitmime_body = config_get_bool("strict_8bitmime_body");
    c->strict_encoding = config_get_bool("strict_mime_encoding_domain");
    c->mime_nesting_limit = config_get_int("mime_nesting_limit");
    c->mime_boundary_limit = config_get_int("mime_boundary_length_limit");
    c->non_smtpd_milters = config_get("non_smtpd_milters");
    c->canon_classes = parse_classes("canonical_classes");
    c->send_canon_classes = parse_classes("sender_canonical_classes");
    c->rcpt_canon_classes = parse_classes("recipient_canonical_classes");
    c->masq_classes = parse_classes("masquerade_classes");
    c->masq_domains = word_list("masquerade_domains");
    c->masq_exceptions = word_list("masquerade_exceptions");
    c->local_domains = local_domains();
    c->layout.queue_directory = ".";
    c->layout.hash_queue_names = config_get("hash_queue_names");
    c->layout.hash_queue_depth = (int)config_get_int("hash_queue_depth");
    c->layout.long_queue_ids = config_get_bool("enable_long_queue_ids");
}
