/* app/cmd_run — `ptim run`: the live app. Camera, stream or file in; masked
 * video out to a virtual camera, a stream, a file or stdout; latency first
 * (newest frame wins), reopening a source that fails. Ctrl-C stops it
 * cleanly: the output is finished so that it plays. */
#include "app/commands.h"

#include <stdio.h>

#include "app/cli.h"
#include "app/job.h"

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
            "  -y, --overwrite     replace an output file that exists (else refused, exit 2)\n"
            "\nA file source is read at its own frame rate (source.realtime=false: as fast as\n"
            "possible). Ctrl-C ends a recording normally: the file is finished under its\n"
            "name and plays (exit 0).\n"
            "\nSettings marked live (ptim config keys) follow edits of the settings file while\n"
            "running (system.enable_hot_reload).\n\n");
    ptim_cli_print_common_help(f);
}


int cmd_run(int argc, char **argv)
{
    return ptim_job_command(argc, argv, true, usage);
}
