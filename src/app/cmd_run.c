/* app/cmd_run — `ptim run`: the live app. Camera, stream or file in; masked
 * video out to a virtual camera, a stream, a file or stdout; latency first
 * (newest frame wins), reopening a source that fails. Ctrl-C stops it
 * cleanly: the output is finished so that it plays. */
#include "app/commands.h"

#include <stdio.h>

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
            "  --userdata-dir DIR  where settings and logs live\n"
            "  --set key=value     any setting;  --config FILE  settings file\n"
            "  --stats-json FILE   statistics at the end;  --audit FILE  per-frame JSON lines\n"
            "  --unsafe-passthrough  show frames that could not be masked UNMASKED (warns)\n"
            "  -q, --quiet;  -v, --verbose\n");
}

int cmd_run(int argc, char **argv)
{
    ptim_job job;
    ptim_error err = {0};
    if (ptim_job_parse_run(argc, argv, &job, &err) < 0) {
        fprintf(stderr, "ptim run: %s\n", err.message);
        ptim_job_free(&job);
        return 2;
    }
    if (job.help) {
        usage(stdout);
        ptim_job_free(&job);
        return 0;
    }
    if (job.config_file) {
        fprintf(stderr, "ptim run: --config is not supported by this build yet\n");
        ptim_job_free(&job);
        return 2;
    }
    ptim_config *cfg = NULL;
    if (ptim_config_new((const char *const *)job.overrides, job.override_count, &cfg, &err) < 0 ||
        ptim_job_expand_run(&job, ptim_config_str(cfg, "source.input"),
                            ptim_config_str(cfg, "output.target"), &err) < 0) {
        fprintf(stderr, "ptim run: %s\n", err.message);
        ptim_config_release(cfg);
        ptim_job_free(&job);
        return 2;
    }
    int status = ptim_job_execute(&job, cfg, true, "ptim run", NULL, NULL);
    ptim_config_release(cfg);
    ptim_job_free(&job);
    return status;
}
