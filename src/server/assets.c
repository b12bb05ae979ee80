/* server/assets — lookup in the generated table; see assets.h. */
#include "server/assets.h"

#include <string.h>

const server_asset *server_asset_find(const char *path)
{
    for (int i = 0; path && i < server_asset_count; i++)
        if (!strcmp(server_assets[i].path, path))
            return &server_assets[i];
    return NULL;
}
