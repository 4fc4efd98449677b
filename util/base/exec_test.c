/* Unit tests for exec: argv and shell commands, exit status and signals, stdin from a buffer
 * and an fd, output truncation, time-limit kill of the process group, fd closing, environment
 * filtering, uid switching and exec failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_sh(const char *command, struct exec_result *res)
{
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.command = command;
    struct str why = STR_INIT;
    assert_int_equal(exec_run(&spec, res, &why), 0);
    str_release(&why);
}

static void test_argv_exit_and_output(void **state)
{
    (void)state;
    struct exec_spec spec;
    exec_spec_init(&spec);
    char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", "ignored", NULL};
    spec.argv = argv;
    struct exec_result res;
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_int_equal(res.how, EXEC_EXITED);
    assert_int_equal(res.exit_status, 3);
    assert_string_equal(str_cstr(&res.output), "out\nerr\n");
    assert_int_equal(res.truncated, 0);
    exec_result_free(&res);
    /* argv is passed verbatim, no shell parsing. */
    char *const echo[] = {"/bin/echo", "a;b", "$HOME", "*", NULL};
    spec.argv = echo;
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_string_equal(str_cstr(&res.output), "a;b $HOME *\n");
    exec_result_free(&res);
}

static void test_signal_result(void **state)
{
    (void)state;
    struct exec_result res;
    run_sh("kill -TERM $$", &res);
    assert_int_equal(res.how, EXEC_SIGNALED);
    assert_int_equal(res.signo, SIGTERM);
    exec_result_free(&res);
}

static void test_stdin_buffer_and_fd(void **state)
{
    (void)state;
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.command = "tr a-z A-Z";
    static char big[200000];
    memset(big, 'q', sizeof(big));
    spec.stdin_data = big;
    spec.stdin_len = sizeof(big);
    spec.output_limit = sizeof(big) + 10;
    spec.time_limit_ms = 10000;
    struct exec_result res;
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_int_equal(res.how, EXEC_EXITED);
    assert_int_equal(res.output.len, sizeof(big));
    assert_int_equal(res.output.data[0], 'Q');
    assert_int_equal(res.output.data[sizeof(big) - 1], 'Q');
    exec_result_free(&res);
    /* A child that ignores its input must not hang or kill us with SIGPIPE. */
    spec.command = "exit 0";
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_int_equal(res.how, EXEC_EXITED);
    exec_result_free(&res);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "from fd\n", 8), 8);
    close(p[1]);
    spec.stdin_data = NULL;
    spec.stdin_fd = p[0];
    spec.command = "cat";
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_string_equal(str_cstr(&res.output), "from fd\n");
    close(p[0]);
    exec_result_free(&res);
    /* Default stdin is /dev/null. */
    run_sh("cat; echo done", &res);
    assert_string_equal(str_cstr(&res.output), "done\n");
    exec_result_free(&res);
}

static void test_output_truncated(void **state)
{
    (void)state;
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.command = "i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done; exit 7";
    spec.output_limit = 25;
    struct exec_result res;
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_int_equal(res.how, EXEC_EXITED);
    assert_int_equal(res.exit_status, 7); /* the rest was drained, the child finished */
    assert_int_equal(res.truncated, 1);
    assert_int_equal(res.output.len, 25);
    assert_string_equal(res.output.data, "0123456789\n0123456789\n012");
    exec_result_free(&res);
}

static void test_time_limit_kills_group(void **state)
{
    (void)state;
    char marker[] = "/tmp/kestrel-exec-XXXXXX";
    int mfd = mkstemp(marker);
    close(mfd);
    unlink(marker);
    char cmd[256];
    /* A background grandchild would create the marker if it survived the kill. */
    snprintf(cmd, sizeof(cmd), "(sleep 2; touch %s) & echo started; sleep 30", marker);
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.command = cmd;
    spec.time_limit_ms = 300;
    struct exec_result res;
    long t0 = now_ms();
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    long took = now_ms() - t0;
    assert_int_equal(res.how, EXEC_TIMEDOUT);
    assert_true(took >= 300 && took < 2000);
    assert_string_equal(str_cstr(&res.output), "started\n");
    exec_result_free(&res);
    sleep(3);
    assert_int_equal(access(marker, F_OK), -1);
    /* A child that closes its output but keeps running is also bounded. */
    spec.command = "exec >/dev/null 2>&1; sleep 30";
    t0 = now_ms();
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_int_equal(res.how, EXEC_TIMEDOUT);
    assert_true(now_ms() - t0 < 2000);
    exec_result_free(&res);
}

static void test_fds_closed_and_env(void **state)
{
    (void)state;
    int leak = open("/dev/null", O_RDONLY); /* not close-on-exec */
    assert_true(leak > 2);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "if [ -e /proc/self/fd/%d ]; then echo open; else echo closed; fi",
             leak);
    struct exec_result res;
    run_sh(cmd, &res);
    assert_string_equal(str_cstr(&res.output), "closed\n");
    exec_result_free(&res);
    close(leak);

    char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/root", "SECRET=x", "TZ=UTC", NULL};
    const char *const names[] = {"PATH", "TZ", "MISSING", "MAIL_CONFIG=/etc/postfix", NULL};
    struct argv *e = exec_env_filter(env, names);
    assert_int_equal(e->n, 3);
    assert_string_equal(e->v[0], "PATH=/usr/bin:/bin");
    assert_string_equal(e->v[1], "TZ=UTC");
    assert_string_equal(e->v[2], "MAIL_CONFIG=/etc/postfix");
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.envp = e->v;
    char *const argv[] = {"env", NULL}; /* found through PATH */
    spec.argv = argv;
    assert_int_equal(exec_run(&spec, &res, NULL), 0);
    assert_string_equal(str_cstr(&res.output),
                        "PATH=/usr/bin:/bin\nTZ=UTC\nMAIL_CONFIG=/etc/postfix\n");
    exec_result_free(&res);
    argv_free(e);
}

static void test_exec_failures(void **state)
{
    (void)state;
    struct exec_spec spec;
    exec_spec_init(&spec);
    char *const argv[] = {"/nonexistent/program", NULL};
    spec.argv = argv;
    struct exec_result res;
    struct str why = STR_INIT;
    assert_int_equal(exec_run(&spec, &res, &why), -1);
    assert_string_equal(str_cstr(&why), "execute /nonexistent/program: No such file or directory");
    spec.argv = NULL;
    spec.command = "true";
    spec.cwd = "/nonexistent-dir";
    assert_int_equal(exec_run(&spec, &res, &why), -1);
    assert_string_equal(str_cstr(&why), "execute /bin/sh: No such file or directory");
    spec.command = NULL;
    assert_int_equal(exec_run(&spec, &res, &why), -1);
    assert_string_equal(str_cstr(&why), "execute: empty command");
    str_release(&why);
}

static void test_uid_switch(void **state)
{
    (void)state;
    struct exec_spec spec;
    exec_spec_init(&spec);
    spec.command = "id -u; id -g";
    char *const env[] = {"PATH=/usr/bin:/bin", NULL};
    spec.envp = env;
    spec.set_ids = 1;
    spec.uid = 65534;
    spec.gid = 65534;
    struct exec_result res;
    struct str why = STR_INIT;
    if (geteuid() != 0) {
        assert_int_equal(exec_run(&spec, &res, &why), -1);
        assert_string_equal(str_cstr(&why), "execute /bin/sh: Operation not permitted");
    } else {
        assert_int_equal(exec_run(&spec, &res, &why), 0);
        assert_string_equal(str_cstr(&res.output), "65534\n65534\n");
        exec_result_free(&res);
    }
    str_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv_exit_and_output),   cmocka_unit_test(test_signal_result),
        cmocka_unit_test(test_stdin_buffer_and_fd),    cmocka_unit_test(test_output_truncated),
        cmocka_unit_test(test_time_limit_kills_group), cmocka_unit_test(test_fds_closed_and_env),
        cmocka_unit_test(test_exec_failures),          cmocka_unit_test(test_uid_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
