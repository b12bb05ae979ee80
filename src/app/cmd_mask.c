/* app/cmd_mask — `ptim mask`: offline anonymization of files, pictures and
 * directories, every frame masked or covered, audio copied. */
#include "app/commands.h"

#include <stdio.h>

#include "app/cli.h"
#include "app/job.h"
#include "core/config.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ptim mask INPUT... [-o OUTPUT] [--mode MODE] [--identity IMG] [--set key=value]...\n"
            "\n"
            "Hide every face in videos, pictures and directories of them. Each output is written\n"
            "to NAME.partial and renamed when complete; a frame on which masking could not run\n"
            "is covered (privacy.on_failure), never written as it was.\n"
            "\n"
            "  INPUT               a video or picture file, a directory, a glob, a URL, or - (stdin)\n"
            "  -o OUTPUT           file, picture, out_%%06d.png, directory, udp://, rtmp://, srt://,\n"
            "                      v4l2:/dev/videoN, - (NUT on stdout) or null\n"
            "                      (default: INPUT_masked.EXT; a directory maps to DIR_masked/)\n"
            "  --mode MODE         blur|pixelate|solid|image|swap|none (mask.mode)\n"
            "  --identity IMG      swap every face for the one in IMG (mask.mode=swap)\n"
            "  --voice pitch       mask the voice too (audio.voice)\n"
            "  --no-audio          leave the audio out\n"
            "  --stats-json FILE   statistics of the run as JSON (one line per input)\n"
            "  --audit FILE        one JSON line per frame: faces masked, guard actions\n"
            "  --unsafe-passthrough  write frames that could not be masked UNMASKED (warns)\n"
            "  --http [ADDR:]PORT  watch progress and a preview in the browser, read-only (server.listen)\n"
            "\n");
    ptim_cli_print_common_help(f);
    fprintf(f, "\n"
            "exit status: 0 done, 1 failed while processing, 2 bad usage, input or output\n");
}


int cmd_mask(int argc, char **argv)
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
    if (ptim_job_parse_mask(cli.argc, cli.argv, &job, &err) < 0 || ptim_job_expand(&job, &err) < 0) {
        ptim_job_free(&job);
        ptim_job_args_free(&args);
        return ptim_cli_fail(&cli, &err);
    }
    job.quiet = cli.quiet;
    job.verbose = cli.verbose;
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    int status = ptim_job_execute(&job, cfg, false, "ptim mask", &cli);
    ptim_config_release(cfg);
    ptim_job_free(&job);
    ptim_cli_close(&cli);
    ptim_job_args_free(&args);
    return status;
}
