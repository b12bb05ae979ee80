/* server/request — the parts of an HTTP request that ptim itself parses:
 * JSON bodies (config patches, uploads, recording switches), query strings,
 * the listen address, the bearer token and the origin rules. Pure functions
 * with no I/O, so they are unit-tested and fuzzed (fuzz/fuzz_server_request.c)
 * apart from libmicrohttpd. Messages are one sentence without a newline. */
#ifndef PTIM_SERVER_REQUEST_H
#define PTIM_SERVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* "[ADDR:]PORT": "8642", "127.0.0.1:8642", "0.0.0.0:80", "[::1]:8642",
 * "localhost:8642" (numeric addresses only otherwise; nothing is resolved).
 * Fills a sockaddr_storage-sized buffer (`addr`, `*addr_len`) and says
 * whether every address it covers is a loopback one. */
typedef struct server_listen {
    unsigned char addr[128]; /* struct sockaddr_in / sockaddr_in6 */
    unsigned addr_len;
    int family;              /* AF_INET or AF_INET6 */
    int port;
    bool loopback;
    char shown[80];          /* "127.0.0.1:8642", "[::1]:8642" */
} server_listen;
int server_parse_listen(const char *text, server_listen *out, char *why, size_t why_size);

/* One config change of a PATCH /api/config body, validated and normalized. */
typedef struct server_change {
    const char *key;   /* static, from the option table */
    char value[512];   /* normalized text */
} server_change;

/* Parse `body` (a JSON object key -> value; values are strings, numbers or
 * booleans) and validate every pair against the option table, exactly as
 * --set does, and refuse keys that cannot change while running. All or
 * nothing: returns the number of changes (<= max) or -1 with the one
 * sentence in `why` ("mask.mode: 'fuzzy' is not one of blur|pixelate|…"). */
int server_parse_config_patch(const char *body, size_t len, server_change *out, int max,
                              char *why, size_t why_size);

/* The value of `name` in a query string ("a=1&view=side"), %-decoded into
 * `out`. Returns the length, -1 when absent, -2 when too long, badly
 * %-encoded or holding a NUL. */
int server_query_param(const char *query, const char *name, char *out, size_t out_size);

/* Base64 (standard alphabet, padding optional, whitespace refused) into
 * `out`. Returns the decoded length or -1. `out` needs len*3/4+3 bytes. */
long server_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size);

/* Constant-time comparison of a presented "Bearer TOKEN" header value (or a
 * bare token from the query) with the expected token. */
bool server_token_ok(const char *presented, const char *expected);

/* Origin rules for state-changing requests: a request that names an Origin
 * must name this server's own (scheme http, same host[:port] as Host);
 * Sec-Fetch-Site, when present, must be same-origin or none. NULL arguments
 * mean the header was absent. */
bool server_same_origin(const char *origin, const char *host, const char *sec_fetch_site);

/* For a loopback-only server: the Host header must name a loopback host
 * (localhost, 127.x.y.z, [::1]), which defeats DNS rebinding. */
bool server_host_is_loopback(const char *host);

/* Content-Type is application/json (parameters such as charset allowed). */
bool server_is_json_type(const char *content_type);

#endif
