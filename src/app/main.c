/* app/main — the ptim command: shared flags, then one subcommand.
 *
 * Start-up speed: `ptim --version`, `--help` and `ptim config` are served by
 * code linked into this binary (core/, app/cli.c, app/cmd_config.c), which
 * needs only small libraries. Every other command lives in the module
 * ptim_commands.so beside the binary (or in ../lib/ptim/), which links
 * FFmpeg, XNNPACK and the rest; it is dlopen()ed only when such a command
 * runs, so the dynamic loader never touches those libraries for the light
 * commands. The binary exports its symbols (-rdynamic), so the module uses
 * the binary's core (one configuration, one log, one error sink). */
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/commands.h"

typedef int (*command_fn)(int argc, char **argv);

static const struct {
    const char *name;
    command_fn light; /* linked into the binary, or NULL: in the module, as symbol cmd_<name> */
    const char *help;
} commands[] = {
    {"run", NULL, "the live app: camera/stream/file in, masked stream out"},
    {"mask", NULL, "anonymize files, images and directories offline"},
    {"batch", NULL, "whole archives: manifest, shards, resume, sidecar records"},
    {"detect", NULL, "find faces and print them (JSON with --json)"},
    {"verify", NULL, "check a masked video for faces that are still recognizable"},
    {"config", cmd_config, "show, list, check and create configuration"},
    {"doctor", NULL, "versions, CPU features, models and cameras"},
    {"nn", NULL, "inspect and run model files"},
    {"bench", NULL, "benchmarks"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: ptim COMMAND [options]\n\n"
               "ptim finds faces in video and images, tracks them and hides them (--mode blur,\n"
               "pixelate, solid, image or swap), failing closed: a frame it could not check is\n"
               "covered.\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n");
    ptim_cli_print_common_help(f);
    fprintf(f, "  --version             print the version\n"
               "\nptim COMMAND --help shows a command's own options.\n"
               "The seed app's invocation works too: ptim run PlayaTewsIdentityMasker --userdata-dir DIR\n");
}

/* The module's path: beside the binary, else ../lib/ptim/ (installed). */
static void *open_module(char *why, size_t why_size)
{
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(why, why_size, "cannot find the ptim binary's directory");
        return NULL;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    *slash = 0;
    const char *candidates[] = {"%s/ptim_commands.so", "%s/../lib/ptim/ptim_commands.so"};
    why[0] = 0;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, candidates[i], exe);
        if (access(path, F_OK))
            continue;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
        snprintf(why, why_size, "%s", dlerror());
        return NULL;
    }
    snprintf(why, why_size, "%s/ptim_commands.so is missing (rebuild with make)", exe);
    return NULL;
}

static bool takes_value(const char *a)
{
    return !strcmp(a, "--config") || !strcmp(a, "--set") || !strcmp(a, "--userdata-dir");
}

int main(int argc, char **argv)
{
    /* Find the command word; shared flags may come before it. */
    int k = 1;
    bool help = false, version = false;
    for (; k < argc; k++) {
        const char *a = argv[k];
        if (a[0] != '-')
            break;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            help = true;
        else if (!strcmp(a, "--version"))
            version = true;
        else if (takes_value(a))
            k++;
    }
    if (version) {
        printf("ptim %s\n", PTIM_VERSION); /* build details: ptim doctor */
        return 0;
    }
    char help_flag[] = "--help";
    if (k + 1 < argc && !strcmp(argv[k], "help")) { /* ptim help mask = ptim mask --help */
        argv[k] = argv[k + 1];
        argv[k + 1] = help_flag;
    } else if (k >= argc || !strcmp(argv[k], "help")) {
        usage(help || k < argc ? stdout : stderr);
        return help || k < argc ? 0 : 2;
    }
    const char *name = argv[k];
    size_t c = 0; /* index in the table, COMMAND_COUNT when not there */
    while (c < COMMAND_COUNT && strcmp(commands[c].name, name))
        c++;
    /* A command not in the table may still be in the module (a new
     * cmd_<name> added without a row here); names are letters, digits, '_'. */
    bool plain = *name && strlen(name) < 32;
    for (const char *p = name; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    /* argv for the command: its name, then the flags given before it, then the rest. */
    char **sub = malloc(sizeof *sub * ((size_t)argc + 1));
    if (!sub) {
        fprintf(stderr, "ptim: out of memory\n");
        return 1;
    }
    int n = 0;
    sub[n++] = argv[k];
    for (int i = 1; i < k; i++)
        sub[n++] = argv[i];
    for (int i = k + 1; i < argc; i++)
        sub[n++] = argv[i];
    sub[n] = NULL;

    command_fn fn = c < COMMAND_COUNT ? commands[c].light : NULL;
    if (c == COMMAND_COUNT && !plain) {
        fprintf(stderr, "ptim: unknown command '%s' (see ptim --help)\n", name);
        free(sub);
        return 2;
    }
    if (!fn) {
        char why[PATH_MAX + 128], symbol[64];
        void *module = open_module(why, sizeof why);
        if (!module && c == COMMAND_COUNT) {
            fprintf(stderr, "ptim: unknown command '%s' (see ptim --help)\n", name);
            free(sub);
            return 2;
        }
        if (!module) {
            fprintf(stderr, "ptim %s: cannot load the command module: %s\n", name, why);
            free(sub);
            return 1;
        }
        snprintf(symbol, sizeof symbol, "cmd_%s", name);
        *(void **)&fn = dlsym(module, symbol);
        if (!fn && c == COMMAND_COUNT) {
            fprintf(stderr, "ptim: unknown command '%s' (see ptim --help)\n", name);
            free(sub);
            return 2;
        }
        if (!fn) {
            fprintf(stderr, "ptim %s: the command module has no %s\n", name, symbol);
            free(sub);
            return 1;
        }
        /* The module stays loaded until exit: its code may run in atexit
         * handlers and threads the command leaves behind. */
    }
    int status = fn(n, sub);
    free(sub);
    return status;
}
