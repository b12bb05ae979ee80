/* app/cmd_config — `ptim config show [--sources] | keys | check FILE | init FILE`.
 * Everything here comes from the option table (core/options.c). */
#include "app/commands.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/cli.h"
#include "core/config.h"

static void usage(FILE *f)
{
    fputs("usage: ptim config show [--sources]   every setting and its value (--sources: where it came from)\n"
          "       ptim config keys [--all]       every setting with type, range, default and help\n"
          "       ptim config check FILE         validate a settings file\n"
          "       ptim config init FILE|- [--force] [--all]\n"
          "                                      write a commented file with every setting at its default\n"
          "                                      (- : to stdout; --force replaces FILE; --all adds debug.*)\n"
          "       ptim config watch [--events N] apply edits of the settings file as they happen (as `run`\n"
          "                                      does between frames) and print what changed; until\n"
          "                                      interrupted or N events\n\n",
          f);
    ptim_cli_print_common_help(f);
}

static int show(ptim_cli *cli, bool sources)
{
    ptim_config *cfg = ptim_config_store_acquire(cli->store);
    int width = 0;
    for (int i = 0; i < ptim_option_count; i++) {
        int n = (int)strlen(ptim_options[i].key);
        width = n > width ? n : width;
    }
    for (int i = 0; i < ptim_option_count; i++) {
        if (sources)
            printf("%-*s = %-20s  # %s\n", width, ptim_options[i].key, ptim_config_text(cfg, i),
                   ptim_config_origin(cfg, i));
        else
            printf("%-*s = %s\n", width, ptim_options[i].key, ptim_config_text(cfg, i));
    }
    if (sources) {
        printf("# model directory: %s\n", ptim_model_dir(cfg));
        /* which file was read: --config, <userdata-dir>/config.ini, or the
         * first of the XDG places that exists */
        struct stat st;
        if (!cli->config_path)
            printf("# settings file: none (no --config, --userdata-dir or XDG ptim/config.ini)\n");
        else
            printf("# settings file: %s%s\n", cli->config_path,
                   stat(cli->config_path, &st) ? " (does not exist: not read)" : "");
    }
    ptim_config_release(cfg);
    return 0;
}

static int keys(bool all)
{
    for (int i = 0; i < ptim_option_count; i++) {
        const ptim_option *o = &ptim_options[i];
        if (!all && ptim_option_is_debug(o))
            continue;
        char env[160];
        ptim_option_env_name(o, env, sizeof env);
        printf("%s\n    type %s", o->key, ptim_opt_type_name(o->type));
        if (o->type == PTIM_OPT_ENUM)
            printf(", one of %s", o->choices);
        else if (o->min <= o->max)
        {
            char range[96];
            ptim_option_range_text(o, range, sizeof range);
            printf(", range %s", range);
        }
        printf(", default '%s'%s, environment %s\n    %s\n", o->def, o->live ? ", live" : "", env, o->help);
    }
    return 0;
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Poll the store at 20 Hz, the way the pipeline does between frames. */
static int watch(ptim_cli *cli, long max_events)
{
    ptim_error err = {0};
    if (!cli->config_path) {
        fprintf(stderr, "ptim config watch: no settings file (give --config FILE or --userdata-dir DIR)\n");
        return 2;
    }
    if (ptim_config_store_watch(cli->store, &err) < 0) {
        fprintf(stderr, "ptim config watch: %s\n", err.message[0] ? err.message : "hot reload is off (system.enable_hot_reload)");
        return err.message[0] ? 1 : 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("watching %s\n", cli->config_path);
    fflush(stdout);
    long events = 0;
    while (!interrupted && (max_events <= 0 || events < max_events)) {
        ptim_config_changes ch;
        int rc = ptim_config_store_poll(cli->store, &ch, &err);
        if (rc < 0) {
            printf("rejected: %s (previous settings stay)\n", err.message);
            events++;
        } else if (rc > 0) {
            ptim_config *cfg = ptim_config_store_acquire(cli->store);
            for (int i = 0; i < ch.count; i++) {
                if (ch.needs_restart[i])
                    printf("needs restart: %s\n", ch.keys[i]);
                else
                    printf("applied: %s = %s\n", ch.keys[i], ptim_config_text(cfg, ptim_option_index(ch.keys[i])));
            }
            printf("generation %llu\n", (unsigned long long)ptim_config_store_generation(cli->store));
            ptim_config_release(cfg);
            events++;
        }
        fflush(stdout);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int cmd_config(int argc, char **argv)
{
    ptim_cli cli;
    ptim_error err = {0};
    if (ptim_cli_parse(&cli, argc, argv, &err))
        return ptim_cli_fail(&cli, &err);
    const char *sub = cli.argc > 1 ? cli.argv[1] : NULL;
    if (cli.help || !sub) {
        bool help = cli.help;
        usage(help ? stdout : stderr);
        ptim_cli_close(&cli);
        return help ? 0 : 2;
    }
    /* --all (keys, init: include debug.*) and --force (init: replace a file) */
    bool all = false, force = false;
    int kept = 1;
    for (int i = 1; i < cli.argc; i++) {
        if (!strcmp(cli.argv[i], "--all"))
            all = true;
        else if (!strcmp(cli.argv[i], "--force"))
            force = true;
        else
            cli.argv[kept++] = cli.argv[i];
    }
    cli.argv[kept] = NULL;
    cli.argc = kept;
    int status = 0;
    if (!strcmp(sub, "keys") && cli.argc == 2) {
        status = keys(all);
    } else if (!strcmp(sub, "check") && cli.argc == 3) {
        if (ptim_config_check_file(cli.argv[2], &err))
            return ptim_cli_fail(&cli, &err);
        if (!cli.quiet)
            printf("%s: ok\n", cli.argv[2]);
    } else if (!strcmp(sub, "init") && cli.argc == 3) {
        if (ptim_config_init_file(cli.argv[2], force, all, &err))
            return ptim_cli_fail(&cli, &err);
    } else if (!strcmp(sub, "show") && (cli.argc == 2 || (cli.argc == 3 && !strcmp(cli.argv[2], "--sources")))) {
        if (ptim_cli_open(&cli, &err))
            return ptim_cli_fail(&cli, &err);
        status = show(&cli, cli.argc == 3);
    } else if (!strcmp(sub, "watch") && (cli.argc == 2 || (cli.argc == 4 && !strcmp(cli.argv[2], "--events")))) {
        char *end;
        long n = cli.argc == 4 ? strtol(cli.argv[3], &end, 10) : 0;
        if (cli.argc == 4 && (*end || n <= 0)) {
            fprintf(stderr, "ptim config watch: --events needs a positive number, not '%s'\n", cli.argv[3]);
            ptim_cli_close(&cli);
            return 2;
        }
        if (ptim_cli_open(&cli, &err))
            return ptim_cli_fail(&cli, &err);
        status = watch(&cli, n);
    } else {
        fprintf(stderr, "ptim config: unknown or incomplete subcommand '%s'\n", sub);
        usage(stderr);
        status = 2;
    }
    ptim_cli_close(&cli);
    return status;
}
