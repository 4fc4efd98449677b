/* Unit tests for the parameter registry, computed defaults and path relocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/config.h"
#include "mail/params.h"
#include "mail/paths.h"

#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_lookup_and_order(void **state)
{
    (void)state;
    const struct param_def *p = param_lookup("queue_run_delay");
    assert_non_null(p);
    assert_int_equal(p->type, PARAM_TIME);
    assert_int_equal(p->unit, 's');
    assert_string_equal(param_default(p), "300s");
    assert_null(param_lookup("no_such_parameter"));
    assert_true(param_count() > 600);
    for (size_t i = 1; i < param_count(); i++)
        assert_true(strcmp(param_at(i - 1)->name, param_at(i)->name) < 0);
    const char *must[] = {"mydestination",
                          "smtpd_recipient_restrictions",
                          "smtp_tls_security_level",
                          "lmtp_tcp_port",
                          "virtual_mailbox_maps",
                          "milter_default_action",
                          "smtpd_sasl_type",
                          "hash_queue_names",
                          "tls_high_cipherlist",
                          "local_destination_concurrency_limit",
                          "relay_destination_recipient_limit",
                          NULL};
    for (size_t i = 0; must[i]; i++)
        assert_non_null(param_lookup(must[i]));
}

static void expect_default(const char *name, const char *value)
{
    const struct param_def *p = param_lookup(name);
    assert_non_null(p);
    assert_string_equal(param_default(p), value);
}

static void test_defaults(void **state)
{
    (void)state;
    expect_default("myorigin", "$myhostname");
    expect_default("mydestination", "$myhostname, localhost.$mydomain, localhost");
    expect_default("smtpd_banner", "$myhostname ESMTP $mail_name");
    expect_default("mail_name", "Kestrel");
    expect_default("mail_owner", "postfix");
    expect_default("default_privs", "nobody");
    expect_default("setgid_group", "postdrop");
    expect_default("syslog_name", "${multi_instance_name?{$multi_instance_name}:{postfix}}");
    expect_default("message_size_limit", "10240000");
    expect_default("mailbox_size_limit", "51200000");
    expect_default("smtpd_forbid_bare_newline", "normalize");
    expect_default("local_transport", "local:$myhostname");
    expect_default("alias_maps", "hash:/etc/aliases, nis:mail.aliases");
    expect_default("maximal_queue_lifetime", "5d");
    expect_default("lmtp_tcp_port", "24");
    expect_default("smtp_tls_key_file", "$smtp_tls_cert_file");
}

static void test_computed(void **state)
{
    (void)state;
    param_set_hostname("Mail.Example.COM");
    config_reset();
    config_defaults_only(1);
    assert_string_equal(config_get("myhostname"), "mail.example.com");
    assert_string_equal(config_get("mydomain"), "example.com");
    assert_string_equal(config_get("mydestination"),
                        "mail.example.com, localhost.example.com, localhost");
    assert_string_equal(config_get("smtpd_banner"), "mail.example.com ESMTP Kestrel");
    assert_string_equal(config_get("syslog_name"), "postfix");
    config_defaults_only(0);
    struct str err = STR_INIT;
    const char *text = "myhostname = mx.other.org\nmulti_instance_name = postfix-b\n";
    assert_int_equal(config_load_text("main.cf", text, strlen(text), &err), 0);
    assert_string_equal(config_get("mydomain"), "other.org");
    assert_string_equal(config_get("myorigin"), "mx.other.org");
    assert_string_equal(config_get("syslog_name"), "postfix-b");
    text = "myhostname = bare\n";
    assert_int_equal(config_load_text("main.cf", text, strlen(text), &err), 0);
    assert_string_equal(config_get("mydomain"), "localdomain");
    param_set_hostname("shorty");
    char *fq = xstrdup(param_compute_myhostname());
    assert_string_equal(fq, "shorty.localdomain");
    free(fq);
    char *nets = param_mynetworks_of("host", "ipv4");
    assert_non_null(strstr(nets, "127.0.0.1/32"));
    free(nets);
    nets = param_mynetworks_of("subnet", "ipv4");
    assert_non_null(strstr(nets, "127.0.0.0/8"));
    free(nets);
    nets = param_mynetworks_of("class", "ipv4");
    assert_non_null(strstr(nets, "127.0.0.0/8"));
    free(nets);
    str_release(&err);
    config_reset();
}

static void test_service_params(void **state)
{
    (void)state;
    assert_null(param_lookup("mytrans_destination_concurrency_limit"));
    param_register_service("mytrans", "smtp");
    param_register_service("mydaemon", "smtpd");
    const struct param_def *p = param_lookup("mytrans_destination_concurrency_limit");
    assert_non_null(p);
    assert_string_equal(param_default(p), "$default_destination_concurrency_limit");
    assert_non_null(param_lookup("mytrans_time_limit"));
    assert_null(param_lookup("mydaemon_destination_concurrency_limit"));
    config_reset();
    assert_int_equal(config_get_int("mytrans_destination_concurrency_limit"), 20);
}

static void test_relocation(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/paths_testXXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char path[512];
    snprintf(path, sizeof(path), "mkdir -p %s/etc/postfix %s/usr/sbin", tmpl, tmpl);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof(path), "%s/usr/sbin/postconf", tmpl);
    paths_reset(path);
    assert_string_equal(paths_root(), tmpl);
    char want[512];
    snprintf(want, sizeof(want), "%s/etc/postfix", tmpl);
    assert_string_equal(paths_default("config_directory"), want);
    snprintf(want, sizeof(want), "%s/var/spool/postfix", tmpl);
    assert_string_equal(paths_default("queue_directory"), want);
    paths_reset("/usr/sbin/postconf");
    assert_string_equal(paths_root(), "");
    assert_string_equal(paths_default("config_directory"), "/etc/postfix");
    paths_reset("/nowhere/bin/postconf");
    assert_string_equal(paths_default("config_directory"), "/etc/postfix");
    snprintf(path, sizeof(path), "rm -rf %s", tmpl);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_and_order), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_computed),         cmocka_unit_test(test_service_params),
        cmocka_unit_test(test_relocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
