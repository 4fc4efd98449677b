/* milter_proto: the Sendmail milter wire protocol, client (MTA) side — packet framing
 * (4-byte big-endian length, command byte, data), the command encoders, and the decoders and
 * validators for the filter's replies (option negotiation, verdicts, reply codes, modification
 * requests). Pure codec: no I/O except milter_pkt_read(). Every length is bounded. */
#ifndef KESTREL_MAIL_MILTER_PROTO_H
#define KESTREL_MAIL_MILTER_PROTO_H

#include "base/argv.h"
#include "base/str.h"

#include <stddef.h>
#include <stdint.h>

/* Commands (MTA to filter). */
enum {
    SMFIC_ABORT = 'A',
    SMFIC_BODY = 'B',
    SMFIC_CONNECT = 'C',
    SMFIC_MACRO = 'D',
    SMFIC_BODYEOB = 'E',
    SMFIC_HELO = 'H',
    SMFIC_QUIT_NC = 'K',
    SMFIC_HEADER = 'L',
    SMFIC_MAIL = 'M',
    SMFIC_EOH = 'N',
    SMFIC_OPTNEG = 'O',
    SMFIC_QUIT = 'Q',
    SMFIC_RCPT = 'R',
    SMFIC_DATA = 'T',
    SMFIC_UNKNOWN = 'U',
};

/* Replies (filter to MTA). */
enum {
    SMFIR_ADDRCPT = '+',
    SMFIR_DELRCPT = '-',
    SMFIR_ADDRCPT_PAR = '2',
    SMFIR_SHUTDOWN = '4',
    SMFIR_ACCEPT = 'a',
    SMFIR_REPLBODY = 'b',
    SMFIR_CONTINUE = 'c',
    SMFIR_DISCARD = 'd',
    SMFIR_CHGFROM = 'e',
    SMFIR_CONN_FAIL = 'f',
    SMFIR_ADDHEADER = 'h',
    SMFIR_INSHEADER = 'i',
    SMFIR_SETSYMLIST = 'l',
    SMFIR_CHGHEADER = 'm',
    SMFIR_PROGRESS = 'p',
    SMFIR_QUARANTINE = 'q',
    SMFIR_REJECT = 'r',
    SMFIR_SKIP = 's',
    SMFIR_TEMPFAIL = 't',
    SMFIR_REPLYCODE = 'y',
};

/* Actions a filter may request (SMFIF_*). */
#define SMFIF_ADDHDRS 0x01u
#define SMFIF_CHGBODY 0x02u
#define SMFIF_ADDRCPT 0x04u
#define SMFIF_DELRCPT 0x08u
#define SMFIF_CHGHDRS 0x10u
#define SMFIF_QUARANTINE 0x20u
#define SMFIF_CHGFROM 0x40u
#define SMFIF_ADDRCPT_PAR 0x80u
#define SMFIF_SETSYMLIST 0x100u

/* Protocol steps a filter may skip or not answer (SMFIP_*). */
#define SMFIP_NOCONNECT 0x01u
#define SMFIP_NOHELO 0x02u
#define SMFIP_NOMAIL 0x04u
#define SMFIP_NORCPT 0x08u
#define SMFIP_NOBODY 0x10u
#define SMFIP_NOHDRS 0x20u
#define SMFIP_NOEOH 0x40u
#define SMFIP_NR_HDR 0x80u
#define SMFIP_NOUNKNOWN 0x100u
#define SMFIP_NODATA 0x200u
#define SMFIP_SKIP 0x400u
#define SMFIP_RCPT_REJ 0x800u
#define SMFIP_NR_CONN 0x1000u
#define SMFIP_NR_HELO 0x2000u
#define SMFIP_NR_MAIL 0x4000u
#define SMFIP_NR_RCPT 0x8000u
#define SMFIP_NR_DATA 0x10000u
#define SMFIP_NR_UNKN 0x20000u
#define SMFIP_NR_EOH 0x40000u
#define SMFIP_NR_BODY 0x80000u
#define SMFIP_HDR_LEADSPC 0x100000u

/* Macro stages (the "where" of SMFIR_SETSYMLIST). */
enum {
    MILTER_STAGE_CONNECT,
    MILTER_STAGE_HELO,
    MILTER_STAGE_MAIL,
    MILTER_STAGE_RCPT,
    MILTER_STAGE_DATA,
    MILTER_STAGE_EOM,
    MILTER_STAGE_EOH,
    MILTER_STAGE_COUNT,
};

#define MILTER_CHUNK_SIZE 65535        /* largest body chunk sent */
#define MILTER_PKT_LIMIT (1024 * 1024) /* largest reply packet accepted */
#define MILTER_NAME_LIMIT 1000         /* header names, macro names */
#define MILTER_TEXT_LIMIT (100 * 1024) /* header values, reply texts, addresses + args */
#define MILTER_MACRO_LIMIT 100         /* macro names per stage */

/* The actions and steps an MTA offers for a protocol version (2..6). */
uint32_t milter_proto_actions(int version);
uint32_t milter_proto_steps(int version);

/* Encoders: each appends one complete packet to out. */
void milter_pkt_put(struct str *out, int cmd, const void *data, size_t len);
void milter_cmd_optneg(struct str *out, uint32_t version, uint32_t actions, uint32_t steps);
/* family: '4', '6', 'L' (unix) or 'U' (unknown: port and address are not sent). */
void milter_cmd_connect(struct str *out, const char *host, int family, unsigned port,
                        const char *addr);
void milter_cmd_helo(struct str *out, const char *helo);
/* MAIL or RCPT: args[0] is "<address>", the rest ESMTP parameters. */
void milter_cmd_args(struct str *out, int cmd, const struct argv *args);
/* Macros for the command cmd: names (e.g. "j", "{daemon_name}") and values, pairwise. */
void milter_cmd_macros(struct str *out, int cmd, const struct argv *names,
                       const struct argv *values);
void milter_cmd_header(struct str *out, const char *name, const char *value);
void milter_cmd_body(struct str *out, const void *data, size_t len);
/* A command without data: EOH, BODYEOB, DATA, ABORT, QUIT, QUIT_NC. */
void milter_cmd_simple(struct str *out, int cmd);
void milter_cmd_unknown(struct str *out, const char *command);

/* Reads one packet (at most limit data bytes). Returns the command byte (>= 0) with data set,
 * or -1 with err set ("lost connection", "timeout", "packet too long", ...). */
struct stream;
int milter_pkt_read(struct stream *s, size_t limit, struct str *data, struct str *err);

/* The decoded option negotiation reply. macros[stage] is NULL unless the filter set it. */
struct milter_optneg {
    uint32_t version, actions, steps;
    char *macros[MILTER_STAGE_COUNT];
};
int milter_optneg_parse(const char *data, size_t len, struct milter_optneg *o, struct str *err);
void milter_optneg_release(struct milter_optneg *o);

/* A decoded reply. Which fields are used depends on cmd:
 *   'y' text (validated reply), 'q' text (reason), 'h' name/value, 'i' and 'm' index/name/value,
 *   '+' '-' text (address), '2' 'e' text (address) and value (ESMTP args, may be empty),
 *   'b' body (raw chunk); the verdicts carry nothing. */
struct milter_reply {
    int cmd;
    long index;
    struct str name, value, text, body;
};
void milter_reply_release(struct milter_reply *r);
/* Decodes the data of reply packet cmd. Returns 0, or -1 with err set (unknown reply,
 * malformed or too long data, invalid reply code). */
int milter_reply_parse(int cmd, const char *data, size_t len, struct milter_reply *r,
                       struct str *err);
/* Validates an SMTP reply from SMFIR_REPLYCODE: "[45]dd text" lines joined by CRLF (all but
 * the last with '-' after the code, the same code on every line), no NUL, no bare CR or LF,
 * an enhanced status code (when present) of the same class. Returns 0, or -1 with err set. */
int milter_replycode_check(const char *text, size_t len, struct str *err);

#endif
