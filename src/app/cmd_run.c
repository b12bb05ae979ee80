/* app/cmd_run — `ptim run`: the live app. Camera, stream or file in; masked
 * video out to a virtual camera, a stream, a file or stdout; latency first
 * (newest frame wins), reopening a source that fails. Ctrl-C stops it
 * cleanly: the output is finished so that it plays. */
#include "app/commands.h"

#include <stdio.h>

#include "app/cli.h"
#include "app/job.h"
#include "core/config.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ptim run [PlayaTewsIdentityMasker] [--userdata-dir DIR] [-i INPUT] [-o OUTPUT]\n"
            "                [--set key=value]... [--verbose]\n"
            "\n"
            "The live app: faces are masked as frames arrive; stale frames are dropped (newest\n"
            "wins) and frames that could not be masked in time are covered.\n"
            "\n"
            "  -i INPUT            camera (first camera), /dev/videoN, a URL, a file, - (stdin)\n"
            "                      (default: source.input, else camera)\n"
            "  -o OUTPUT           v4l2:/dev/videoN, udp://, rtmp://, srt://, a file, -, null\n"
            "                      (default: output.target)\n"
            "  --stats-json FILE   statistics at the end;  --audit FILE  per-frame JSON lines\n"
            "  --unsafe-passthrough  show frames that could not be masked UNMASKED (warns)\n"
            "  --http [ADDR:]PORT  control panel in the browser: live preview, every live setting,\n"
            "                      statistics, /metrics (server.listen; default address 127.0.0.1)\n"
            "\nSettings marked live (ptim config keys) follow edits of the settings file while\n"
            "running (system.enable_hot_reload).\n\n");
    ptim_cli_print_common_help(f);
}


int cmd_run(int argc, char **argv)
{
    ptim_job_args args;
    ptim_cli cli;
    ptim_job job = {0};
    ptim_error err = {0};
    if (ptim_job_rewrite_aliases(argc, argv, &args, &err) < 0) {
        ptim_job_args_free(&args);
        return ptim_cli_fail(NULL, &err);
    }
    if (ptim_cli_start(&cli, args.argc, args.argv, &err)) {
        ptim_job_args_free(&args);
        return ptim_cli_fail(&cli, &err);
    }
    if (cli.help) {
        usage(stdout);
        ptim_cli_close(&cli);
        ptim_job_args_free(&args);
        return 0;
    }
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    if (ptim_job_parse_run(cli.argc, cli.argv, &job, &err) < 0 ||
        ptim_job_expand_run(&job, ptim_config_str(cfg, "source.input"),
                            ptim_config_str(cfg, "output.target"), &err) < 0) {
        ptim_config_release(cfg);
        ptim_job_free(&job);
        ptim_job_args_free(&args);
        return ptim_cli_fail(&cli, &err);
    }
    job.quiet = cli.quiet;
    job.verbose = cli.verbose;
    int status = ptim_job_execute(&job, cfg, true, "ptim run", &cli);
    ptim_config_release(cfg);
    ptim_job_free(&job);
    ptim_cli_close(&cli);
    ptim_job_args_free(&args);
    return status;
}
