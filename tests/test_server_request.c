/* server/request: listen addresses, config patches (validated by the option
 * table, all or nothing), query strings, base64, token and origin rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/request.h"

static void test_listen(void **state)
{
    (void)state;
    server_listen l;
    char why[200];
    assert_int_equal(server_parse_listen("8642", &l, why, sizeof why), 0);
    assert_true(l.loopback);
    assert_int_equal(l.port, 8642);
    assert_string_equal(l.shown, "127.0.0.1:8642");
    assert_int_equal(server_parse_listen("127.3.4.5:80", &l, why, sizeof why), 0);
    assert_true(l.loopback);
    assert_int_equal(server_parse_listen("[::1]:9000", &l, why, sizeof why), 0);
    assert_true(l.loopback);
    assert_string_equal(l.shown, "[::1]:9000");
    assert_int_equal(server_parse_listen("localhost:1", &l, why, sizeof why), 0);
    assert_true(l.loopback);
    assert_int_equal(server_parse_listen("0.0.0.0:8642", &l, why, sizeof why), 0);
    assert_false(l.loopback);
    assert_int_equal(server_parse_listen("[::]:8642", &l, why, sizeof why), 0);
    assert_false(l.loopback);
    assert_int_equal(server_parse_listen("192.168.1.2:8642", &l, why, sizeof why), 0);
    assert_false(l.loopback);
    const char *bad[] = {"", "0", "65536", "-1", "80a", "host.example:80", "::1:80", "[::1", "[::1]80",
                         "1.2.3.4:", ":80x", "999.1.1.1:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        assert_int_equal(server_parse_listen(bad[i], &l, why, sizeof why), -1);
        assert_true(why[0] && !strchr(why, '\n'));
    }
}

static void test_patch(void **state)
{
    (void)state;
    server_change ch[8];
    char why[512];
    const char *ok = "{\"mask.mode\":\"pixelate\",\"detector.threshold\":0.25,\"track.smoothing\":false,"
                     "\"mask.pixelate_cells\":12}";
    assert_int_equal(server_parse_config_patch(ok, strlen(ok), ch, 8, why, sizeof why), 4);
    assert_string_equal(ch[0].key, "mask.mode");
    assert_string_equal(ch[0].value, "pixelate");
    assert_string_equal(ch[1].value, "0.25");
    assert_string_equal(ch[2].value, "false");
    assert_string_equal(ch[3].value, "12");
    static const struct {
        const char *body, *want;
    } bad[] = {
        {"{", "not valid JSON"},
        {"[]", "JSON object"},
        {"{}", "names no setting"},
        {"{\"mask.mdoe\":\"blur\"}", "unknown key mask.mdoe (did you mean mask.mode?)"},
        {"{\"detector.threshold\":2}", "detector.threshold = 2 is out of range [0.01, 1]"},
        {"{\"mask.pixelate_cells\":2.5}", "mask.pixelate_cells = 2.5"},
        {"{\"output.crf\":20}", "needs a restart"},
        {"{\"mask.mode\":[1]}", "string, number or boolean"},
        {"{\"mask.mode\":\"blur\",\"mask.scale\":99}", "mask.scale = 99 is out of range"},
        {"{\"mask.mode\":\"a\\nb\"}", "mask.mode = a?b"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        assert_int_equal(server_parse_config_patch(bad[i].body, strlen(bad[i].body), ch, 8, why, sizeof why), -1);
        if (!strstr(why, bad[i].want))
            fail_msg("%s: '%s' lacks '%s'", bad[i].body, why, bad[i].want);
        assert_null(strchr(why, '\n'));
    }
    /* more changes than room: refused, not truncated */
    assert_int_equal(server_parse_config_patch(ok, strlen(ok), ch, 2, why, sizeof why), -1);
    /* a body with an embedded NUL is cut at its length, not read past */
    assert_int_equal(server_parse_config_patch("{\"mask.mode\":\"blur\"}xyz", 20, ch, 8, why, sizeof why), 1);
}

static void test_query(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(server_query_param("view=side&token=a%20b+c", "view", out, sizeof out), 4);
    assert_string_equal(out, "side");
    assert_int_equal(server_query_param("view=side&token=a%20b+c", "token", out, sizeof out), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(server_query_param("viewx=1&view", "view", out, sizeof out), 0);
    assert_int_equal(server_query_param("a=1", "view", out, sizeof out), -1);
    assert_int_equal(server_query_param("", "view", out, sizeof out), -1);
    assert_int_equal(server_query_param("view=%zz", "view", out, sizeof out), -2);
    assert_int_equal(server_query_param("view=%4", "view", out, sizeof out), -2);
    assert_int_equal(server_query_param("view=%00", "view", out, sizeof out), -2);
    assert_int_equal(server_query_param("view=0123456789012345678901234567890123456789", "view", out, sizeof out), -2);
}

static void test_base64(void **state)
{
    (void)state;
    unsigned char out[32];
    assert_int_equal(server_base64_decode("aGVsbG8=", 8, out, sizeof out), 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(server_base64_decode("aGVsbG8", 7, out, sizeof out), 5);
    assert_int_equal(server_base64_decode("", 0, out, sizeof out), 0);
    assert_int_equal(server_base64_decode("a", 1, out, sizeof out), -1);
    assert_int_equal(server_base64_decode("aGV sbG8", 8, out, sizeof out), -1);
    assert_int_equal(server_base64_decode("aGVsbG8=", 8, out, 4), -1); /* no room: refused */
}

static void test_rules(void **state)
{
    (void)state;
    assert_true(server_token_ok("Bearer s3cret", "s3cret"));
    assert_true(server_token_ok("s3cret", "s3cret"));
    assert_false(server_token_ok("Bearer s3cre", "s3cret"));
    assert_false(server_token_ok("Bearer s3cretX", "s3cret"));
    assert_false(server_token_ok(NULL, "s3cret"));
    assert_false(server_token_ok("", ""));
    assert_true(server_same_origin(NULL, "127.0.0.1:8642", NULL));
    assert_true(server_same_origin("http://127.0.0.1:8642", "127.0.0.1:8642", "same-origin"));
    assert_false(server_same_origin("http://evil.example", "127.0.0.1:8642", NULL));
    assert_false(server_same_origin("null", "127.0.0.1:8642", NULL));
    assert_false(server_same_origin("https://127.0.0.1:8642", "127.0.0.1:8642", NULL));
    assert_false(server_same_origin(NULL, "127.0.0.1:8642", "cross-site"));
    assert_false(server_same_origin(NULL, "127.0.0.1:8642", "same-site"));
    assert_true(server_host_is_loopback("localhost:8642"));
    assert_true(server_host_is_loopback("127.0.0.1"));
    assert_true(server_host_is_loopback("[::1]:8642"));
    assert_false(server_host_is_loopback("evil.example:8642"));
    assert_false(server_host_is_loopback("127.0.0.1.evil.example"));
    assert_false(server_host_is_loopback(NULL));
    assert_true(server_is_json_type("application/json"));
    assert_true(server_is_json_type("application/json; charset=utf-8"));
    assert_false(server_is_json_type("application/jsonp"));
    assert_false(server_is_json_type("text/plain"));
    assert_false(server_is_json_type("application/x-www-form-urlencoded"));
    assert_false(server_is_json_type(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen), cmocka_unit_test(test_patch), cmocka_unit_test(test_query),
        cmocka_unit_test(test_base64), cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
