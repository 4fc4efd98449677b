/* sasl_dovecot: the client side of Dovecot's line-based authentication protocol (version 1),
 * as a pure codec (handshake parsing, request building, reply parsing) plus the server backend
 * that uses it over a unix or inet socket (registered in sasl_server.c).
 *
 * The protocol: the client sends "VERSION\t1\t<minor>" and "CPID\t<pid>"; the server answers
 * VERSION, MECH (one per mechanism, with flags), SPID, CUID, COOKIE and DONE. Then
 * "AUTH\t<id>\t<mech>\tservice=..\t...\tresp=<base64>" and "CONT\t<id>\t<base64>" from the
 * client, "CONT", "OK" or "FAIL" (with reason=, temp, user=) from the server. Lines end with
 * LF and fields are TAB-separated, so no field we send may hold CR, LF, TAB or NUL. */
#ifndef KESTREL_MAIL_SASL_DOVECOT_H
#define KESTREL_MAIL_SASL_DOVECOT_H

#include <stddef.h>

#include "base/str.h"

/* Longest line accepted from the auth server, and most handshake lines (MECH included). */
#define DOVECOT_MAX_LINE 65536
#define DOVECOT_MAX_HANDSHAKE_LINES 256

/* Mechanism flags announced in MECH lines. */
enum {
    DMECH_ANONYMOUS = 1,
    DMECH_PLAINTEXT = 2,
    DMECH_DICTIONARY = 4,
    DMECH_ACTIVE = 8,
    DMECH_FORWARD_SECRECY = 16,
    DMECH_MUTUAL_AUTH = 32,
    DMECH_PRIVATE = 64,
};

struct dovecot_mech {
    char *name;
    int flags;
};

struct dovecot_handshake {
    int have_version;
    int done;
    size_t lines;
    struct dovecot_mech *mechs;
    size_t n_mechs, cap_mechs;
};

/* The first lines the client sends: "VERSION\t1\t0\nCPID\t<pid>\n". */
void dovecot_client_hello(struct str *out, long pid);

/* Feed one server line (without its LF). Returns 1 after DONE, 0 when more lines are needed,
 * -1 on a protocol error (reason in why): unsupported major version, a line before VERSION,
 * too many lines, a malformed MECH. Unknown lines are ignored, as the protocol asks. */
int dovecot_handshake_line(struct dovecot_handshake *h, const char *line, size_t len,
                           struct str *why);
void dovecot_handshake_free(struct dovecot_handshake *h);
/* The mechanism of that name (case-insensitive), or NULL. */
const struct dovecot_mech *dovecot_find_mech(const struct dovecot_handshake *h, const char *name);

/* The fields of an AUTH request. NULL strings are left out. */
struct dovecot_auth_req {
    const char *mech;
    const char *service;     /* service=smtp */
    const char *local_addr;  /* lip= */
    const char *remote_addr; /* rip= */
    const char *local_port;  /* lport= */
    const char *remote_port; /* rport= */
    int secured;             /* TLS is active: "secured" */
    const char *resp;        /* initial response (base64; "" for an empty one), or NULL */
};

/* Append "AUTH\t<id>\t...\n" to out. Returns 0, or -1 (out unchanged, reason in why) when a
 * field holds CR, LF, TAB or NUL, or the mechanism name is empty. */
int dovecot_auth_request(struct str *out, unsigned id, const struct dovecot_auth_req *r,
                         struct str *why);
/* Append "CONT\t<id>\t<resp>\n"; -1 for a response holding CR, LF, TAB or NUL. */
int dovecot_cont_request(struct str *out, unsigned id, const char *resp, size_t len,
                         struct str *why);
/* Nonzero when data[0..len) holds none of CR, LF, TAB, NUL. */
int dovecot_field_ok(const char *data, size_t len);

enum dovecot_reply_kind {
    DREPLY_OTHER = 0, /* another request's reply or an unknown line: skip it */
    DREPLY_OK,
    DREPLY_CONT,
    DREPLY_FAIL,
    DREPLY_BAD = -1, /* a reply to our id that cannot be parsed */
};

struct dovecot_reply {
    int kind;
    int temp;        /* FAIL with "temp" */
    int have_user;   /* user= was present */
    int have_reason; /* reason= was present */
    struct str data; /* CONT: the challenge (base64) */
    struct str user;
    struct str reason;
};

/* Parse a server line for request id. Unescapes Dovecot's \001 escapes in user= and reason=.
 * Returns the kind (also stored in r->kind). */
int dovecot_parse_reply(const char *line, size_t len, unsigned id, struct dovecot_reply *r);
void dovecot_reply_free(struct dovecot_reply *r);

/* Undo Dovecot's tab-escaping (\001 followed by 0 1 t r n l, or any other byte) into out. */
void dovecot_unescape(struct str *out, const char *data, size_t len);

#endif
