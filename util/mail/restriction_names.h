/* restriction_names: the SMTP access restriction names smtpd accepts in its restriction lists
 * (smtpd_*_restrictions and restriction classes), with the kind of argument each one takes.
 * Used by the configuration check and, later, by smtpd's restriction engine. */
#ifndef KESTREL_MAIL_RESTRICTION_NAMES_H
#define KESTREL_MAIL_RESTRICTION_NAMES_H

/* What follows a restriction name in the list. */
enum restriction_arg {
    RESTRICTION_ARG_NONE,    /* stands alone */
    RESTRICTION_ARG_TABLE,   /* a type:table (check_*_access) */
    RESTRICTION_ARG_DOMAIN,  /* a DNS list domain, optionally =d.d.d.d (reject_rbl_client, ...) */
    RESTRICTION_ARG_SERVICE, /* a policy endpoint: inet:host:port, unix:path or { ... } */
    RESTRICTION_ARG_NUMBER,  /* seconds (sleep) */
};

struct restriction_name {
    const char *name;
    enum restriction_arg arg;
};

/* The entry for a restriction name (exact, case-sensitive as in Postfix); NULL if unknown. */
const struct restriction_name *restriction_lookup(const char *name);
/* Every known restriction, terminated by an entry with a NULL name. */
extern const struct restriction_name restriction_names[];
/* The restriction list parameters of smtpd, NULL-terminated. */
extern const char *const restriction_list_params[];

#endif
