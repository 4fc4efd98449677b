/* table_test_util: temporary files for the table unit tests (header-only, tests only). */
#ifndef KESTREL_TABLE_TEST_UTIL_H
#define KESTREL_TABLE_TEST_UTIL_H

#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char test_dir[64];

static int test_dir_setup(void **state)
{
    (void)state;
    strcpy(test_dir, "/tmp/table_testXXXXXX");
    return mkdtemp(test_dir) ? 0 : -1;
}

static int test_dir_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
    return system(cmd);
}

/* Writes len bytes to test_dir/name; sets spec to "type:path". */
static void test_write(struct str *spec, const char *type, const char *name, const char *data,
                       size_t len)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", test_dir, name);
    FILE *fp = fopen(str_cstr(&path), "w");
    if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
        abort();
    str_setf(spec, "%s:%s", type, str_cstr(&path));
    str_release(&path);
}

#endif
