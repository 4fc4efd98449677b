/* tls_echo_server: a minimal TLS echo server built on the TLS library's server context, for
 * end-to-end tests with real external clients (openssl s_client). Listens on 127.0.0.1,
 * prints "port N" once ready, then for each connection runs the handshake and echoes lines
 * until the client closes or sends QUIT. Logs go to stderr.
 *   tls_echo_server -c chain.pem [-C CAfile] [-l loglevel] [-P mandatory_protocols] [-a]
 *                   [-r] [-S btree:cache] [-n connections] */
#include "base/clock.h"
#include "base/log.h"
#include "base/stream.h"
#include "mail/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve(struct tls_server_ctx *ctx, int fd, const char *namaddr)
{
    struct str err = STR_INIT, line = STR_INIT;
    struct tls_session *s = tls_server_start(ctx, fd, namaddr, deadline_after_ms(10000), &err);
    if (s != NULL) {
        struct stream *st = stream_fdopen(fd);
        stream_set_timeout(st, 10);
        tls_stream_attach(st, s);
        const struct tls_info *i = tls_session_info(s);
        if (i->peer_cert)
            stream_printf(st, "fingerprint %s\n", i->peer_fingerprint);
        stream_flush(st);
        while (stream_getline(st, &line, 1000) == STREAM_LINE) {
            stream_write(st, line.data, line.len);
            if (stream_flush(st) < 0 || strncmp(line.data, "QUIT", 4) == 0)
                break;
            str_clear(&line);
        }
        tls_session_shutdown(s, deadline_after_ms(1000));
        tls_session_free(s);
        stream_release(st);
    }
    close(fd);
    str_release(&err);
    str_release(&line);
}

int main(int argc, char **argv)
{
    struct tls_server_params p;
    tls_server_params_defaults(&p);
    p.level = TLS_LEV_MAY;
    p.c.loglevel = 1;
    int conns = -1, opt;
    log_init("tls_echo_server");
    while ((opt = getopt(argc, argv, "c:C:l:P:arS:n:")) != -1) {
        switch (opt) {
        case 'c':
            tls_param_set(&p.c.chain_files, optarg);
            break;
        case 'C':
            tls_param_set(&p.c.CAfile, optarg);
            break;
        case 'l':
            p.c.loglevel = atoi(optarg);
            break;
        case 'P':
            tls_param_set(&p.c.mandatory_protocols, optarg);
            p.level = TLS_LEV_ENCRYPT;
            break;
        case 'a':
            p.ask_ccert = 1;
            break;
        case 'r':
            p.req_ccert = 1;
            break;
        case 'S':
            tls_param_set(&p.c.cache_database, optarg);
            break;
        case 'n':
            conns = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    struct str err = STR_INIT;
    struct tls_server_ctx *ctx = tls_server_init(&p, &err);
    if (ctx == NULL)
        msg_fatal("%s", str_cstr(&err));
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 5) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &len) < 0)
        msg_fatal("listen: %m");
    printf("port %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (int n = 0; conns < 0 || n < conns; n++) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int fd = accept(ls, (struct sockaddr *)&peer, &plen);
        if (fd < 0)
            continue;
        char addr[INET_ADDRSTRLEN], namaddr[100];
        inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
        snprintf(namaddr, sizeof(namaddr), "localhost[%s]", addr);
        serve(ctx, fd, namaddr);
    }
    tls_server_free(ctx);
    tls_server_params_free(&p);
    str_release(&err);
    return 0;
}
