/* app/cmd_config — `ptim config show [--sources] | keys | check FILE | init FILE`.
 * Everything here comes from the option table (core/options.c). */
#include "app/commands.h"

#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "core/config.h"

static void usage(FILE *f)
{
    fputs("usage: ptim config show [--sources]   every setting and its value (--sources: where it came from)\n"
          "       ptim config keys               every setting with type, range, default and help\n"
          "       ptim config check FILE         validate a settings file\n"
          "       ptim config init FILE          write a commented file with every setting at its default\n\n",
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
    if (sources)
        printf("# model directory: %s\n", ptim_model_dir(cfg));
    ptim_config_release(cfg);
    return 0;
}

static int keys(void)
{
    for (int i = 0; i < ptim_option_count; i++) {
        const ptim_option *o = &ptim_options[i];
        char env[160];
        ptim_option_env_name(o, env, sizeof env);
        printf("%s\n    type %s", o->key, ptim_opt_type_name(o->type));
        if (o->type == PTIM_OPT_ENUM)
            printf(", one of %s", o->choices);
        else if (o->min <= o->max)
            printf(", range [%g, %g]", o->min, o->max);
        printf(", default '%s'%s, environment %s\n    %s\n", o->def, o->live ? ", live" : "", env, o->help);
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
    int status = 0;
    if (!strcmp(sub, "keys") && cli.argc == 2) {
        status = keys();
    } else if (!strcmp(sub, "check") && cli.argc == 3) {
        if (ptim_config_check_file(cli.argv[2], &err))
            return ptim_cli_fail(&cli, &err);
        if (!cli.quiet)
            printf("%s: ok\n", cli.argv[2]);
    } else if (!strcmp(sub, "init") && cli.argc == 3) {
        if (ptim_config_write_defaults(cli.argv[2], &err))
            return ptim_cli_fail(&cli, &err);
    } else if (!strcmp(sub, "show") && (cli.argc == 2 || (cli.argc == 3 && !strcmp(cli.argv[2], "--sources")))) {
        if (ptim_cli_open(&cli, &err))
            return ptim_cli_fail(&cli, &err);
        status = show(&cli, cli.argc == 3);
    } else {
        fprintf(stderr, "ptim config: unknown or incomplete subcommand '%s'\n", sub);
        usage(stderr);
        status = 2;
    }
    ptim_cli_close(&cli);
    return status;
}
