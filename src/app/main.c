/* app/main — the ptim command: global flags, then one subcommand. */
#include <stdio.h>
#include <string.h>

#include "app/commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"run", cmd_run, "the live app: camera/stream/file in, masked stream out"},
    {"mask", cmd_mask, "anonymize files, images and directories offline"},
    {"detect", cmd_detect, "find faces and print them (JSON with --json)"},
    {"verify", cmd_verify, "check a masked video for faces that are still recognizable"},
    {"config", cmd_config, "show, list, check and create configuration"},
    {"doctor", cmd_doctor, "versions, CPU features, models and cameras"},
    {"nn", cmd_nn, "inspect and run model files"},
    {"bench", cmd_bench, "benchmarks"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ptim COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nptim COMMAND --help shows a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ptim %s\n", PTIM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ptim: unknown command '%s' (see ptim --help)\n", argv[1]);
    return 2;
}
