/* server/request — request parsing that is ours; see request.h. */
#include "server/request.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

/* `in` shortened and with control characters as '?', for a message. */
static const char *shown(const char *in, char *buf, size_t n)
{
    snprintf(buf, n, "%s", in ? in : "");
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return buf;
}

int server_parse_listen(const char *text, server_listen *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    char safe[64];
    char host[64] = "127.0.0.1";
    const char *port_text = text;
    if (!text || !*text) {
        snprintf(why, why_size, "empty address (want [ADDR:]PORT)");
        return -1;
    }
    if (text[0] == '[') { /* [v6]:port */
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host) {
            snprintf(why, why_size, "'%s' is not [ADDR]:PORT", shown(text, safe, sizeof safe));
            return -1;
        }
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = 0;
        port_text = close + 2;
    } else if (strchr(text, ':')) {
        const char *colon = strrchr(text, ':');
        if (colon != strchr(text, ':') || (size_t)(colon - text) >= sizeof host) {
            snprintf(why, why_size, "'%s' is not ADDR:PORT (write IPv6 addresses as [ADDR]:PORT)", shown(text, safe, sizeof safe));
            return -1;
        }
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = 0;
        port_text = colon + 1;
    }
    char *end;
    long port = strtol(port_text, &end, 10);
    if (!*port_text || *end || port < 1 || port > 65535 || !isdigit((unsigned char)*port_text)) {
        snprintf(why, why_size, "'%s': the port must be a number from 1 to 65535", shown(text, safe, sizeof safe));
        return -1;
    }
    if (!strcasecmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    out->port = (int)port;
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)port);
        memcpy(out->addr, &v4, sizeof v4);
        out->addr_len = sizeof v4;
        out->family = AF_INET;
        out->loopback = (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
        snprintf(out->shown, sizeof out->shown, "%s:%ld", host, port);
    } else if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)port);
        memcpy(out->addr, &v6, sizeof v6);
        out->addr_len = sizeof v6;
        out->family = AF_INET6;
        out->loopback = IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr);
        snprintf(out->shown, sizeof out->shown, "[%s]:%ld", host, port);
    } else {
        snprintf(why, why_size, "'%s' is not a numeric address (nothing is looked up)", shown(host, safe, sizeof safe));
        return -1;
    }
    return 0;
}

static int fail(char *why, size_t n, const char *fmt, const char *a, const char *b)
{
    snprintf(why, n, fmt, a, b);
    return -1;
}

int server_parse_config_patch(const char *body, size_t len, server_change *out, int max,
                              char *why, size_t why_size)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root)
        return fail(why, why_size, "the body is not valid JSON%s%s", "", "");
    int n = 0, rc = 0;
    if (!cJSON_IsObject(root)) {
        rc = fail(why, why_size, "the body must be a JSON object of setting -> value%s%s", "", "");
        goto done;
    }
    for (cJSON *it = root->child; it && !rc; it = it->next) {
        const char *key = it->string ? it->string : "";
        const ptim_option *opt = ptim_option_find(key);
        char shown[80];
        snprintf(shown, sizeof shown, "%.70s", key);
        for (char *c = shown; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == '"')
                *c = '?';
        if (!opt) {
            const char *near = ptim_option_suggest(key);
            char hint[120] = "";
            if (near)
                snprintf(hint, sizeof hint, " (did you mean %s?)", near);
            rc = fail(why, why_size, "unknown key %s%s", shown, hint);
            break;
        }
        if (!opt->live) {
            rc = fail(why, why_size, "%s cannot change while running; it needs a restart%s", opt->key, "");
            break;
        }
        char text[512];
        if (cJSON_IsString(it)) {
            if (strlen(it->valuestring) >= sizeof text) {
                rc = fail(why, why_size, "%s: the value is too long%s", opt->key, "");
                break;
            }
            snprintf(text, sizeof text, "%s", it->valuestring);
        } else if (cJSON_IsBool(it)) {
            snprintf(text, sizeof text, "%s", cJSON_IsTrue(it) ? "true" : "false");
        } else if (cJSON_IsNumber(it)) {
            double v = it->valuedouble;
            if (!isfinite(v)) {
                rc = fail(why, why_size, "%s: the value is not a finite number%s", opt->key, "");
                break;
            }
            if (v == floor(v) && fabs(v) < 9e15)
                snprintf(text, sizeof text, "%.0f", v);
            else
                snprintf(text, sizeof text, "%.17g", v);
        } else {
            rc = fail(why, why_size, "%s: the value must be a string, number or boolean%s", opt->key, "");
            break;
        }
        if (n >= max) {
            rc = fail(why, why_size, "too many settings in one request%s%s", "", "");
            break;
        }
        char reason[256];
        if (ptim_option_validate(opt, text, out[n].value, sizeof out[n].value, reason, sizeof reason) < 0) {
            char v[96];
            snprintf(v, sizeof v, "%.80s", text);
            for (char *c = v; *c; c++)
                if ((unsigned char)*c < 0x20)
                    *c = '?';
            snprintf(why, why_size, "%s = %s %s", opt->key, v, reason);
            rc = -1;
            break;
        }
        out[n].key = opt->key;
        n++;
    }
    if (!rc && n == 0)
        rc = fail(why, why_size, "the object names no setting%s%s", "", "");
done:
    cJSON_Delete(root);
    return rc < 0 ? -1 : n;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int server_query_param(const char *query, const char *name, char *out, size_t out_size)
{
    if (!query || !name || !out_size)
        return -1;
    size_t nl = strlen(name);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t o = 0;
            for (size_t i = nl + 1; i < seg; i++) {
                int c = (unsigned char)p[i];
                if (c == '+')
                    c = ' ';
                else if (c == '%') {
                    if (i + 2 >= seg) /* '%' needs two hex digits */
                        return -2;
                    int h = hexval((unsigned char)p[i + 1]), l = hexval((unsigned char)p[i + 2]);
                    if (h < 0 || l < 0)
                        return -2;
                    c = h * 16 + l;
                    i += 2;
                }
                if (c == 0 || o + 1 >= out_size)
                    return -2;
                out[o++] = (char)c;
            }
            out[o] = 0;
            return (int)o;
        }
        if (seg == nl && !strncmp(p, name, nl)) {
            out[0] = 0;
            return 0;
        }
        p += seg + (amp ? 1 : 0);
        if (!amp)
            break;
    }
    return -1;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long server_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size)
{
    while (len && in[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= out_size)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

bool server_token_ok(const char *presented, const char *expected)
{
    if (!presented || !expected || !*expected)
        return false;
    if (!strncasecmp(presented, "Bearer ", 7))
        presented += 7;
    size_t a = strlen(presented), b = strlen(expected);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < b; i++) /* time depends on the expected length only */
        diff |= (unsigned char)(i < a ? presented[i] : 0) ^ (unsigned char)expected[i];
    return diff == 0;
}

/* "host[:port]" of an http://… origin, or NULL. */
static const char *origin_host(const char *origin)
{
    return !strncasecmp(origin, "http://", 7) ? origin + 7 : NULL;
}

bool server_same_origin(const char *origin, const char *host, const char *sec_fetch_site)
{
    if (sec_fetch_site && strcmp(sec_fetch_site, "same-origin") && strcmp(sec_fetch_site, "none"))
        return false;
    if (!origin)
        return true; /* not a browser's cross-origin request (curl, same-origin GET) */
    const char *oh = origin_host(origin);
    return oh && host && !strcasecmp(oh, host);
}

bool server_host_is_loopback(const char *host)
{
    if (!host)
        return false;
    char h[64];
    size_t n;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close)
            return false;
        n = (size_t)(close - host + 1);
    } else {
        const char *colon = strchr(host, ':');
        n = colon ? (size_t)(colon - host) : strlen(host);
    }
    if (n >= sizeof h)
        return false;
    memcpy(h, host, n);
    h[n] = 0;
    if (!strcasecmp(h, "localhost") || !strcmp(h, "[::1]"))
        return true;
    struct in_addr a;
    return inet_pton(AF_INET, h, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool server_is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return !strncasecmp(ct, "application/json", n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}
