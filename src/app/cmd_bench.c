/* app/cmd_bench — `ptim bench [nn|face|mask] [options]`: dispatches to the
 * benchmark parts (app/bench.h); with no part, runs every part in turn. */
#include "app/commands.h"

#include <stdio.h>
#include <string.h>

#include "app/bench.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} parts[] = {
    {"nn", bench_nn_main, "model load time and inference per backend"},
    {"face", bench_face_main, "detection, tracking and landmarks per frame"},
    {"mask", bench_mask_main, "masking cost per face at 720p and 1080p"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ptim bench [PART] [options]\n\nparts (all of them when none is named):\n");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        fprintf(f, "  %-6s %s\n", parts[i].name, parts[i].help);
}

int cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            if (!strcmp(argv[1], parts[i].name))
                return parts[i].run(argc - 1, argv + 1);
        fprintf(stderr, "ptim bench: unknown part '%s' (see ptim bench --help)\n", argv[1]);
        return 2;
    }
    int status = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char *sub[64];
        int n = 0;
        sub[n++] = (char *)parts[i].name;
        for (int a = 1; a < argc && n < 63; a++)
            sub[n++] = argv[a];
        sub[n] = NULL;
        int rc = parts[i].run(n, sub);
        if (rc > status)
            status = rc;
    }
    return status;
}
