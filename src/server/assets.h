/* server/assets — the control panel's page, style and script, embedded in
 * the binary at build time (CMake turns the files of src/server/assets into a C array;
 * see CMakeLists.txt). The server serves exactly these paths and nothing
 * else, so no request can reach a file on disk. */
#ifndef PTIM_SERVER_ASSETS_H
#define PTIM_SERVER_ASSETS_H

#include <stddef.h>

typedef struct server_asset {
    const char *path;          /* "/", "/panel.css", "/panel.js" */
    const char *content_type;
    const unsigned char *data; /* static */
    size_t size;
} server_asset;

/* Generated: every embedded file. */
extern const server_asset server_assets[];
extern const int server_asset_count;

/* The asset served at `path` (exact match), or NULL. */
const server_asset *server_asset_find(const char *path);

#endif
