/* app/cmd_mask — `ptim mask`: offline anonymization of files, pictures and
 * directories, every frame masked or covered, audio copied. */
#include "app/commands.h"

#include <stdio.h>

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
            "  --set key=value     any setting (ptim config keys)\n"
            "  --config FILE       settings file\n"
            "  --stats-json FILE   statistics of the run as JSON (one line per input)\n"
            "  --audit FILE        one JSON line per frame: faces masked, guard actions\n"
            "  --unsafe-passthrough  write frames that could not be masked UNMASKED (warns)\n"
            "  -q, --quiet         no progress or summary;  -v, --verbose  more detail\n"
            "\n"
            "exit status: 0 done, 1 failed while processing, 2 bad usage, input or output\n");
}

int cmd_mask(int argc, char **argv)
{
    ptim_job job;
    ptim_error err = {0};
    if (ptim_job_parse_mask(argc, argv, &job, &err) < 0) {
        fprintf(stderr, "ptim mask: %s\n", err.message);
        ptim_job_free(&job);
        return 2;
    }
    if (job.help) {
        usage(stdout);
        ptim_job_free(&job);
        return 0;
    }
    ptim_config *cfg = NULL;
    if (job.config_file) {
        fprintf(stderr, "ptim mask: --config is not supported by this build yet\n");
        ptim_job_free(&job);
        return 2;
    }
    if (ptim_config_new((const char *const *)job.overrides, job.override_count, &cfg, &err) < 0 ||
        ptim_job_expand(&job, &err) < 0) {
        fprintf(stderr, "ptim mask: %s\n", err.message);
        ptim_config_release(cfg);
        ptim_job_free(&job);
        return 2;
    }
    int status = ptim_job_execute(&job, cfg, false, "ptim mask", NULL, NULL);
    ptim_config_release(cfg);
    ptim_job_free(&job);
    return status;
}
