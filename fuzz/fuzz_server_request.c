/* libFuzzer target: the control panel's own request parsing (server/request):
 * PATCH /api/config bodies, query strings, base64 uploads, listen addresses
 * and the Host/Origin/token rules. Any input must give a result or a
 * one-line message, never a crash, leak or hang. The first byte picks the
 * parser; the rest is its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/request.h"

static void one_line(const char *why)
{
    if (!why[0] || strchr(why, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0] % 5;
    size_t len = size - 1;
    char *text = malloc(len + 1); /* NUL-terminated copy for the string parsers */
    memcpy(text, data + 1, len);
    text[len] = 0;
    char why[512];
    switch (mode) {
    case 0: {
        server_change ch[8];
        why[0] = 0;
        int n = server_parse_config_patch((const char *)data + 1, len, ch, 8, why, sizeof why);
        if (n < 0)
            one_line(why);
        for (int i = 0; i < n; i++)
            if (!ptim_option_find(ch[i].key) || strlen(ch[i].value) >= sizeof ch[i].value)
                abort();
        break;
    }
    case 1: {
        char out[64];
        const char *names[] = {"view", "token", "", "a"};
        for (int i = 0; i < 4; i++) {
            int n = server_query_param(text, names[i], out, sizeof out);
            if (n >= 0 && (size_t)n != strlen(out))
                abort();
        }
        break;
    }
    case 2: {
        unsigned char *out = malloc(len / 4 * 3 + 4);
        long n = server_base64_decode(text, len, out, len / 4 * 3 + 4);
        if (n > (long)(len / 4 * 3 + 3))
            abort();
        free(out);
        break;
    }
    case 3: {
        server_listen l;
        why[0] = 0;
        if (server_parse_listen(text, &l, why, sizeof why) < 0)
            one_line(why);
        else if (l.port < 1 || l.port > 65535)
            abort();
        break;
    }
    default: {
        /* split at the first NUL-free '\n' into two header values */
        char *nl = strchr(text, '\n');
        const char *b = "127.0.0.1:8642";
        if (nl) {
            *nl = 0;
            b = nl + 1;
        }
        (void)server_same_origin(text, b, nl ? b : NULL);
        (void)server_host_is_loopback(text);
        (void)server_is_json_type(text);
        (void)server_token_ok(text, b);
        break;
    }
    }
    free(text);
    return 0;
}
