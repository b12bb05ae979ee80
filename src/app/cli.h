/* app/cli — the flags every ptim command shares, and the start-up they imply.
 *
 * Shared flags (anywhere on the command line, before a `--`):
 *   --config FILE         INI file (else <userdata-dir>/config.ini when present)
 *   --set KEY=VALUE       override one setting; repeatable; highest precedence
 *   --userdata-dir DIR    where logs/, reports/ and config.ini live; created
 *                         (with logs/ and reports/) when missing
 *   --verbose, -v         debug logging, startup stage times on stderr
 *   --quiet, -q           only errors on stderr
 *   --help, -h            the command prints its usage
 * `--name=value` works for every flag with a value. Everything else (the
 * command's own options and positional arguments) is left, in order, in
 * cli.argv/cli.argc with cli.argv[0] the command's name.
 *
 * A command uses it like this:
 *
 *     int cmd_x(int argc, char **argv)
 *     {
 *         ptim_cli cli;
 *         ptim_error err;
 *         if (ptim_cli_start(&cli, argc, argv, &err))
 *             return ptim_cli_fail(&cli, &err);       // prints, returns 2
 *         if (cli.help) { print usage; ptim_cli_close(&cli); return 0; }
 *         for (int i = 1; i < cli.argc; i++) ... cli.argv[i] ...
 *         ptim_config *cfg = ptim_config_store_acquire(cli.store);
 *         ...                                          // between frames:
 *         ptim_config_changes ch;                      //   ptim_config_store_poll(cli.store, &ch, &err)
 *         ptim_config_release(cfg);
 *         int status = ...;
 *         ptim_cli_close(&cli);
 *         return status;
 *     }
 *
 * ptim_cli_start() = ptim_cli_parse() + ptim_cli_open(); a command that must
 * look at its own arguments before the configuration is built may call the
 * two separately. */
#ifndef PTIM_APP_CLI_H
#define PTIM_APP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "core/error.h"

typedef struct ptim_cli {
    /* From the command line (strings point into the caller's argv). */
    const char *command;       /* argv[0] as given to ptim_cli_parse */
    const char *config_file;   /* --config, or NULL */
    const char **sets;         /* --set values, set_count of them */
    int set_count;
    const char *userdata_dir;  /* --userdata-dir, or NULL (then the XDG places, see ptim_cli_open) */
    bool verbose, quiet, help;
    int argc;                  /* the command's own arguments, argv[0] = command name, argv[argc] = NULL */
    char **argv;

    /* Built by ptim_cli_open(); owned by the cli, freed by ptim_cli_close(). */
    ptim_config_store *store;
    char *config_path;         /* INI file the store reads (may not exist yet), or NULL */
    char *logs_dir;            /* <userdata-dir>/logs or <XDG state>/ptim/logs, or NULL */
    char *reports_dir;         /* <userdata-dir>/reports or <XDG state>/ptim/reports, or NULL */
    bool log_open, sink_open, watching; /* internal */
} ptim_cli;

/* Split shared flags from the command's own arguments. Fails (PTIM_ERR_CONFIG,
 * exit 2) on a shared flag missing its value. Zeroes *cli first. */
int ptim_cli_parse(ptim_cli *cli, int argc, char **argv, ptim_error *err);

/* Create the userdata directory (and logs/, reports/), build the config store
 * from every source (the process environment included), open the log file
 * <userdata-dir>/logs/ptim.log and errors.log, and start the startup clock's
 * "config" and "logging" stages. Fails with the configuration's one-sentence
 * error (exit 2). Does nothing more when cli->help is set. */
int ptim_cli_open(ptim_cli *cli, ptim_error *err);

/* Both of the above. On failure everything is already closed. */
int ptim_cli_start(ptim_cli *cli, int argc, char **argv, ptim_error *err);

/* Between frames: pick up edits of the settings file (starts watching on the
 * first call). Logs each changed key, keys that need a restart, and a
 * rejected edit with its message (the previous settings stay); applies a new
 * system.log_level. Returns as ptim_config_store_poll: 1 changed, 0 nothing,
 * -1 rejected. Then ptim_config_store_acquire(cli->store) for the new values. */
int ptim_cli_poll_config(ptim_cli *cli, ptim_config_changes *changes);

/* Free what parse/open made; safe on a zeroed or failed cli. */
void ptim_cli_close(ptim_cli *cli);

/* Print "ptim COMMAND: <message>" on stderr (also to the log when open),
 * close the cli, and return the exit status for err (ptim_error_exit_status). */
int ptim_cli_fail(ptim_cli *cli, const ptim_error *err);

/* The shared flags' help lines, for a command's usage text. */
void ptim_cli_print_common_help(FILE *f);

#endif
