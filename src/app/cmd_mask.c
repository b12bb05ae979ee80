/* app/cmd_mask — `ptim mask`: offline anonymization of files, pictures and
 * directories, every frame masked or covered, audio copied. */
#include "app/commands.h"

#include <stdio.h>

#include "app/cli.h"
#include "app/job.h"

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
            "  --mode MODE         blur|pixelate|solid|image|swap|none (mask.mode; none masks\n"
            "                      nothing and says so)\n"
            "  --identity IMG      swap every face for the one in IMG (mask.mode=swap)\n"
            "  --voice pitch       mask the voice too (audio.voice)\n"
            "  --no-audio          leave the audio out\n"
            "  --stats-json FILE   statistics of the run as JSON (one line per input)\n"
            "  --audit FILE        one JSON line per frame: faces masked, guard actions\n"
            "  --unsafe-passthrough  write frames that could not be masked UNMASKED (warns, exit 1)\n"
            "  --http [ADDR:]PORT  watch progress and a preview in the browser, read-only (server.listen)\n"
            "  -y, --overwrite     replace outputs that exist (output.overwrite); without it they\n"
            "                      are refused (exit 2)\n"
            "  -n, --no-overwrite  skip inputs whose output exists\n"
            "  -r, --recursive     go into subdirectories of a directory input\n"
            "\n"
            "A quoted glob ('dir/*.{jpg,png}') is expanded like the shell does; a picture\n"
            "sequence is read only from a %%04d pattern. Ctrl-C (SIGINT) or SIGTERM stops the\n"
            "job: the output keeps the name NAME.partial (it plays, but is cut off) and ptim\n"
            "exits 130 or 143.\n"
            "\n");
    ptim_cli_print_common_help(f);
}


int cmd_mask(int argc, char **argv)
{
    return ptim_job_command(argc, argv, false, usage);
}
