/* app/cli — shared flags and start-up for every command. See cli.h. */
#include "app/cli.h"

#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern char **environ;

/* A shared flag with a value: "--name VALUE" or "--name=VALUE". Returns the
 * value and advances *i, NULL when `arg` is not this flag, or sets *missing. */
static const char *flag_value(const char *flag, int argc, char **argv, int *i, bool *missing)
{
    const char *arg = argv[*i];
    size_t n = strlen(flag);
    if (strncmp(arg, flag, n))
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int ptim_cli_parse(ptim_cli *cli, int argc, char **argv, ptim_error *err)
{
    memset(cli, 0, sizeof *cli);
    cli->command = argc > 0 ? argv[0] : "ptim";
    cli->argv = calloc((size_t)argc + 1, sizeof *cli->argv);
    cli->sets = calloc((size_t)argc + 1, sizeof *cli->sets);
    if (!cli->argv || !cli->sets) {
        ptim_cli_close(cli);
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    }
    if (argc > 0)
        cli->argv[cli->argc++] = argv[0];
    bool rest = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (rest) {
            cli->argv[cli->argc++] = argv[i];
        } else if (!strcmp(a, "--")) {
            rest = true;
        } else if ((v = flag_value("--config", argc, argv, &i, &missing))) {
            cli->config_file = v;
        } else if (!missing && (v = flag_value("--set", argc, argv, &i, &missing))) {
            cli->sets[cli->set_count++] = v;
        } else if (!missing && (v = flag_value("--userdata-dir", argc, argv, &i, &missing))) {
            cli->userdata_dir = v;
        } else if (missing) {
            ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s needs a value", a);
            ptim_cli_close(cli);
            return -1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            cli->verbose = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            cli->quiet = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli->help = true;
        } else {
            cli->argv[cli->argc++] = argv[i];
        }
    }
    cli->argv[cli->argc] = NULL;
    if (cli->config_file && !*cli->config_file) {
        ptim_cli_close(cli);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "--config needs a file name");
    }
    if (cli->userdata_dir && !*cli->userdata_dir) {
        ptim_cli_close(cli);
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "--userdata-dir needs a directory");
    }
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* mkdir -p for one path; fails with a sentence naming it. */
static int make_dir(const char *path, ptim_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "directory name %.64s... is too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            struct stat st;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "cannot create directory %s: %s",
                                      buf, strerror(errno));
            if (stat(buf, &st) || !S_ISDIR(st.st_mode))
                return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "%s is not a directory", buf);
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

/* An XDG base directory: $VAR when set and not empty (the spec: an empty
 * value means unset), else $HOME/FALLBACK; NULL when neither is known. */
static char *xdg_dir(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    if (v && *v == '/')
        return strdup(v);
    const char *home = getenv("HOME");
    return home && *home ? join(home, fallback) : NULL;
}

/* The settings file when neither --config nor --userdata-dir names one:
 * $XDG_CONFIG_HOME/ptim/config.ini (~/.config/ptim/config.ini), else the
 * first ptim/config.ini in $XDG_CONFIG_DIRS (/etc/xdg): the first that exists,
 * one file, never a merge of several. NULL when there is none. */
static char *xdg_config_file(void)
{
    struct stat st;
    char *home = xdg_dir("XDG_CONFIG_HOME", ".config");
    char *path = home ? join(home, "ptim/config.ini") : NULL;
    free(home);
    if (path && stat(path, &st) == 0)
        return path;
    free(path);
    const char *dirs = getenv("XDG_CONFIG_DIRS");
    if (!dirs || !*dirs)
        dirs = "/etc/xdg";
    for (const char *d = dirs; *d;) {
        size_t n = strcspn(d, ":");
        char buf[4096];
        if (n && d[0] == '/' && n < sizeof buf - 20) {
            snprintf(buf, sizeof buf, "%.*s/ptim/config.ini", (int)n, d);
            if (stat(buf, &st) == 0)
                return strdup(buf);
        }
        d += n + (d[n] == ':');
    }
    return NULL;
}

int ptim_cli_open(ptim_cli *cli, ptim_error *err)
{
    if (cli->help)
        return 0;
    if (!cli->userdata_dir) {
        /* Logs and error reports in $XDG_STATE_HOME/ptim (~/.local/state/ptim).
         * A place that cannot be made (no HOME, a read-only home) is no reason
         * to refuse work: then there are no log files, as before. */
        char *state = xdg_dir("XDG_STATE_HOME", ".local/state");
        char *dir = state ? join(state, "ptim") : NULL;
        free(state);
        ptim_error ignored = {0};
        if (dir) {
            cli->logs_dir = join(dir, "logs");
            cli->reports_dir = join(dir, "reports");
        }
        if (!dir || !cli->logs_dir || !cli->reports_dir || make_dir(dir, &ignored) ||
            make_dir(cli->logs_dir, &ignored) || make_dir(cli->reports_dir, &ignored)) {
            free(cli->logs_dir);
            free(cli->reports_dir);
            cli->logs_dir = cli->reports_dir = NULL;
        }
        free(dir);
        if (!cli->config_file)
            cli->config_path = xdg_config_file();
    }
    if (cli->userdata_dir) {
        cli->logs_dir = join(cli->userdata_dir, "logs");
        cli->reports_dir = join(cli->userdata_dir, "reports");
        if (!cli->logs_dir || !cli->reports_dir)
            return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        if (make_dir(cli->userdata_dir, err) || make_dir(cli->logs_dir, err) || make_dir(cli->reports_dir, err))
            return ptim_error_prefix(err, "userdata: ");
    }
    if (cli->config_file)
        cli->config_path = strdup(cli->config_file);
    else if (cli->userdata_dir)
        cli->config_path = join(cli->userdata_dir, "config.ini");
    if ((cli->config_file || cli->userdata_dir) && !cli->config_path)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
    ptim_log_set_stderr_level(cli->verbose ? PTIM_LOG_DEBUG : cli->quiet ? PTIM_LOG_ERROR : PTIM_LOG_WARN);
    ptim_startup_begin(PTIM_STARTUP_CONFIG);
    ptim_config_sources src = {
        .file = cli->config_path,
        .file_required = cli->config_file != NULL,
        .environ = environ,
        .sets = cli->sets,
        .set_count = cli->set_count,
    };
    if (ptim_config_store_new(&src, &cli->store, err)) {
        /* The settings are wrong, but where the log goes is known: open it
         * (default level) so that ptim_cli_fail writes the sentence there too. */
        char *path = cli->logs_dir ? join(cli->logs_dir, "ptim.log") : NULL;
        ptim_error ignored = {0};
        if (path && ptim_log_open(path, &ignored) == 0)
            cli->log_open = true;
        free(path);
        return -1;
    }
    ptim_startup_end(PTIM_STARTUP_CONFIG);

    ptim_startup_begin(PTIM_STARTUP_LOGGING);
    ptim_config *cfg = ptim_config_store_acquire(cli->store);
    int level = ptim_log_level_parse(ptim_config_str(cfg, "system.log_level"));
    ptim_config_release(cfg);
    ptim_log_set_file_level(cli->verbose ? PTIM_LOG_DEBUG : (ptim_log_level)level);
    if (cli->logs_dir) {
        char *path = join(cli->logs_dir, "ptim.log");
        int rc = path ? ptim_log_open(path, err) : ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory");
        free(path);
        if (rc)
            return ptim_error_prefix(err, "userdata: ");
        cli->log_open = true;
    }
    if (ptim_error_sink_open(cli->logs_dir, cli->reports_dir, cli->store, err))
        return ptim_error_prefix(err, "userdata: ");
    cli->sink_open = true;
    ptim_startup_end(PTIM_STARTUP_LOGGING);
    ptim_log_info(cli->command, "started (ptim %s, config %s)", PTIM_VERSION,
                  cli->config_path ? cli->config_path : "none");
    return 0;
}

int ptim_cli_poll_config(ptim_cli *cli, ptim_config_changes *changes)
{
    ptim_config_changes local;
    if (!changes)
        changes = &local;
    ptim_error err = {0};
    if (!cli->store)
        return 0;
    if (!cli->watching) {
        cli->watching = true;
        if (ptim_config_store_watch(cli->store, &err) < 0 && err.message[0])
            ptim_log_warn("config", "%s; edits to the settings file apply after a restart", err.message);
    }
    int rc = ptim_config_store_poll(cli->store, changes, &err);
    if (rc < 0) {
        ptim_log_error("config", "%s; the edit was rejected and the previous settings stay", err.message);
        return rc;
    }
    ptim_config *now = rc > 0 ? ptim_config_store_acquire(cli->store) : NULL;
    for (int i = 0; i < changes->count; i++) { /* one line per change, with the value applied */
        if (changes->needs_restart[i])
            ptim_log_warn("config", "%s changed in %s but needs a restart to take effect", changes->keys[i],
                          cli->config_path ? cli->config_path : "the settings");
        else
            ptim_log_info("config", "applied %s = %s", changes->keys[i],
                          now ? ptim_config_text(now, ptim_option_index(changes->keys[i])) : "?");
    }
    if (now)
        ptim_config_release(now);
    if (rc > 0 && !cli->verbose) {
        ptim_config *cfg = ptim_config_store_acquire(cli->store);
        ptim_log_set_file_level((ptim_log_level)ptim_log_level_parse(ptim_config_str(cfg, "system.log_level")));
        ptim_config_release(cfg);
    }
    return rc;
}

int ptim_cli_start(ptim_cli *cli, int argc, char **argv, ptim_error *err)
{
    if (ptim_cli_parse(cli, argc, argv, err))
        return -1;
    if (ptim_cli_open(cli, err))
        return -1; /* caller reports through ptim_cli_fail, which closes */
    return 0;
}

void ptim_cli_close(ptim_cli *cli)
{
    if (cli->sink_open)
        ptim_error_sink_close();
    if (cli->log_open)
        ptim_log_close();
    ptim_config_store_free(cli->store);
    free(cli->argv);
    free(cli->sets);
    free(cli->config_path);
    free(cli->logs_dir);
    free(cli->reports_dir);
    const char *command = cli->command;
    memset(cli, 0, sizeof *cli);
    cli->command = command;
}

int ptim_cli_fail(ptim_cli *cli, const ptim_error *err)
{
    const char *cmd = cli && cli->command ? cli->command : "";
    const char *msg = err && err->message[0] ? err->message : "failed";
    fprintf(stderr, "ptim%s%s: %s\n", *cmd ? " " : "", cmd, msg);
    if (cli && cli->log_open) /* the log file keeps the sentence too */
        ptim_log_file_only(PTIM_LOG_ERROR, cmd, "%s", msg);
    if (cli)
        ptim_cli_close(cli);
    return ptim_error_exit_status(err);
}

void ptim_cli_print_common_help(FILE *f)
{
    fputs("common options:\n"
          "  --config FILE         settings file (default: <userdata-dir>/config.ini, else\n"
          "                        $XDG_CONFIG_HOME/ptim/config.ini, else /etc/xdg/ptim/config.ini)\n"
          "  --set KEY=VALUE       override a setting (repeatable; see ptim config keys)\n"
          "  --userdata-dir DIR    logs/, reports/ and config.ini live here (created when missing;\n"
          "                        default: logs/ and reports/ in $XDG_STATE_HOME/ptim)\n"
          "  -v, --verbose         debug messages and startup stage times\n"
          "  -q, --quiet           errors only\n"
          "  -h, --help            this help\n"
          "\n"
          "exit status (where the command lists none of its own): 0 done, 1 failed while\n"
          "running (some inputs may be done), 2 bad usage, settings, input or output (nothing\n"
          "was done), 130/143 stopped by SIGINT/SIGTERM (ptim mask keeps NAME.partial)\n",
          f);
}
