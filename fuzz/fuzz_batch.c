/* libFuzzer target: the outside files ptim batch reads — sidecar records
 * (NAME.ptim.json, read on --resume and --report) and manifest text, with
 * each manifest line's output key. Any input must parse or fail with a
 * one-line message, never crash, leak or hang; an output key is never
 * absolute and never climbs out of the output directory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch/manifest.h"
#include "batch/sidecar.h"

static int check_line(void *ctx, const char *entry, ptim_error *err)
{
    (void)ctx;
    (void)err;
    char key[4200];
    if (batch_output_key(entry, key, sizeof key) < 0)
        return 0;
    if (key[0] == '/' || !strcmp(key, "..") || !strncmp(key, "../", 3) || strstr(key, "/../") ||
        (strlen(key) >= 3 && !strcmp(key + strlen(key) - 3, "/..")))
        abort();
    (void)batch_key_hash(key);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ptim_error err = {0};
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        batch_record rec;
        if (batch_sidecar_parse(text, len, &rec, &err) < 0 && (!err.message[0] || strchr(err.message, '\n')))
            abort();
        return 0;
    }
    if (batch_manifest_lines(text, len, "fuzz.txt", check_line, NULL, &err) < 0 &&
        (!err.message[0] || strchr(err.message, '\n')))
        abort();
    return 0;
}
