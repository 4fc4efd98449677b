/* cleanup_test_fixture: the set-up shared by cleanup's unit tests (test code only, included
 * by *_test.c): a queue file writer on incoming/ in a temporary directory and a cleanup state
 * writing to it. The test sets cleanup_cfg's limits before fixture_open() and frees its tables
 * before fixture_close(). */
#ifndef KESTREL_CLEANUP_TEST_FIXTURE_H
#define KESTREL_CLEANUP_TEST_FIXTURE_H

#include "cleanup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct cleanup_state st;
static struct queue_file_writer w;
static char dir[] = "/tmp/cleanup-test-XXXXXX";

static void fixture_open(void)
{
    assert_non_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof(sub), "%s/incoming", dir);
    mkdir(sub, 0700);
    cleanup_cfg.layout.queue_directory = dir;
    cleanup_cfg.layout.hash_queue_names = "";
    struct str err = STR_INIT;
    assert_int_equal(queue_file_create(&w, &cleanup_cfg.layout, "incoming", &err), 0);
    str_release(&err);
    cleanup_state_init(&st, CLEANUP_FLAG_FILTER);
    st.queue_id = "TESTID";
    st.w = &w;
}

static void fixture_close(void)
{
    queue_file_abort(&w);
    char sub[64];
    snprintf(sub, sizeof(sub), "%s/incoming", dir);
    rmdir(sub);
    rmdir(dir);
    strcpy(dir, "/tmp/cleanup-test-XXXXXX");
    st.queue_id = NULL;
    cleanup_state_release(&st);
}

#endif
