/* echo_service: a test daemon on the service skeleton. Each line a client sends comes back as
 * "<pid> <line>"; "QUIT" ends the session; "SLEEP n" waits n seconds first. As a trigger
 * service (-t fifo, or with the argument "trigger") it appends each wake-up to the file named
 * by ECHO_TRIGGER_LOG (default echo-trigger.log in the queue directory). With the argument
 * "multi" it is a SERVER_MULTI service answering one line per request. Used by the master tests. */
#include "base/log.h"
#include "base/str.h"
#include "mail/config.h"
#include "service/server.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int echo_serve(struct stream *client, const char *service)
{
    struct str line = STR_INIT;
    stream_set_timeout(client, 30);
    stream_printf(client, "%ld hello from %s uid=%ld\n", (long)getpid(), service, (long)getuid());
    stream_flush(client);
    while (stream_getline(client, &line, 1000) == STREAM_LINE) {
        if (strncmp(line.data, "QUIT", 4) == 0)
            break;
        if (strncmp(line.data, "SLEEP ", 6) == 0)
            sleep((unsigned)atoi(line.data + 6));
        stream_printf(client, "%ld %s", (long)getpid(), line.data);
        stream_flush(client);
        str_clear(&line);
    }
    str_release(&line);
    return SERVER_CLOSE;
}

/* SERVER_MULTI: one line per call; the greeting is sent with the first reply. */
static int echo_multi(struct stream *client, const char *service)
{
    struct str line = STR_INIT;
    stream_set_timeout(client, 5);
    int rc = stream_getline(client, &line, 1000) == STREAM_LINE && strncmp(line.data, "QUIT", 4)
                 ? SERVER_KEEP
                 : SERVER_CLOSE;
    if (rc == SERVER_KEEP) {
        stream_printf(client, "%ld %s %s", (long)getpid(), service, line.data);
        stream_flush(client);
    }
    str_release(&line);
    return rc;
}

static void echo_trigger(const char *data, size_t len, const char *service)
{
    const char *path = getenv("ECHO_TRIGGER_LOG");
    if (path == NULL)
        path = "echo-trigger.log";
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        return;
    dprintf(fd, "%ld %s %.*s\n", (long)getpid(), service, (int)len, data);
    close(fd);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[argc - 1] : "";
    int trigger = strcmp(mode, "trigger") == 0, multi = strcmp(mode, "multi") == 0;
    struct server_ops ops = {
        .shape = trigger ? SERVER_TRIGGER
                 : multi ? SERVER_MULTI
                         : SERVER_SINGLE,
        .serve = multi ? echo_multi : echo_serve,
        .trigger = echo_trigger,
        .max_idle = trigger ? -1 : 0,
    };
    return server_main(argc, argv, &ops);
}
