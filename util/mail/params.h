/* params: the registry of every parameter the suite knows: name, type, default value (which may
 * refer to other parameters as $name) or a function computing it. The tables live in
 * params_<subsystem>.c files; this interface finds a parameter by name. */
#ifndef KESTREL_MAIL_PARAMS_H
#define KESTREL_MAIL_PARAMS_H

#include <stddef.h>

enum param_type { PARAM_STR, PARAM_BOOL, PARAM_INT, PARAM_TIME, PARAM_SIZE };

struct param_def {
    const char *name;
    enum param_type type;
    const char *def;              /* default text, may contain $name; NULL: see compute */
    char unit;                    /* PARAM_TIME: default unit (s m h d w) */
    const char *(*compute)(void); /* computed default (myhostname, mynetworks, ...) */
};

/* Per-subsystem tables (each terminated by an entry with a NULL name). */
extern const struct param_def params_global[], params_smtpd[], params_smtp[], params_local[],
    params_queue[], params_tls[], params_sasl[], params_milter[], params_virtual[],
    params_services[];

/* SASL server (postconf -a) and client (postconf -A) types, NULL-terminated. */
extern const char *const sasl_server_types[], *const sasl_client_types[];

/* Look a parameter up by name (built-in or registered); NULL when unknown. */
const struct param_def *param_lookup(const char *name);
/* The default value text (computed defaults are computed once and cached). */
const char *param_default(const struct param_def *p);
/* Every known parameter in name order: index 0 .. param_count()-1. */
size_t param_count(void);
const struct param_def *param_at(size_t i);
/* Register the per-service parameters for a master.cf service: <service>_time_limit etc.;
 * for a delivery agent (command smtp, lmtp, local, virtual, pipe, error, discard, ...) also
 * <service>_destination_concurrency_limit and the other per-transport ones. */
void param_register_service(const char *service, const char *command);
/* Register a parameter of string type (e.g. a restriction class name). */
void param_register(const char *name, enum param_type type, const char *def, char unit);
/* Name of a type ("string", "boolean", ...). */
const char *param_type_name(enum param_type type);

/* Computed defaults (params_compute.c). */
const char *param_compute_myhostname(void);
const char *param_compute_mydomain(void);
const char *param_compute_mynetworks(void);
const char *param_compute_config_directory(void);
const char *param_compute_queue_directory(void);
const char *param_compute_command_directory(void);
const char *param_compute_daemon_directory(void);
const char *param_compute_data_directory(void);
const char *param_compute_mail_spool_directory(void);
const char *param_compute_sendmail_path(void);
const char *param_compute_newaliases_path(void);
const char *param_compute_mailq_path(void);
/* Override the machine name used by the myhostname/mydomain computation (tests). */
void param_set_hostname(const char *name);
/* mydomain derived from a host name: all but the first label, "localdomain" if none (caller
 * frees). */
char *param_mydomain_of(const char *hostname);
/* mynetworks for a mynetworks_style (host, subnet, class) over the machine's interfaces,
 * restricted to inet_protocols (all, ipv4, ipv6); caller frees. */
char *param_mynetworks_of(const char *style, const char *protocols);

/* Table-building shorthands for the params_*.c files. */
#define P_STR(n, d)                                                                                \
    {                                                                                              \
        n, PARAM_STR, d, 0, NULL                                                                   \
    }
#define P_BOOL(n, d)                                                                               \
    {                                                                                              \
        n, PARAM_BOOL, d, 0, NULL                                                                  \
    }
#define P_INT(n, d)                                                                                \
    {                                                                                              \
        n, PARAM_INT, d, 0, NULL                                                                   \
    }
#define P_TIME(n, d, u)                                                                            \
    {                                                                                              \
        n, PARAM_TIME, d, u, NULL                                                                  \
    }
#define P_SIZE(n, d)                                                                               \
    {                                                                                              \
        n, PARAM_SIZE, d, 0, NULL                                                                  \
    }
#define P_COMP(n, f)                                                                               \
    {                                                                                              \
        n, PARAM_STR, NULL, 0, f                                                                   \
    }
#define P_END                                                                                      \
    {                                                                                              \
        NULL, PARAM_STR, NULL, 0, NULL                                                             \
    }

#endif
