/* app/cmd_verify — `ptim verify [ORIGINAL] MASKED`: the user-facing check
 * that a masked video shows no recognizable face (logic in check/verify.c, the
 * detector binding in check/verify_face.c). Exit 0 clean, 1 leaked, 2 bad usage
 * or input, or no verdict possible. */
#include "app/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "app/cli.h"
#include "check/verify.h"
#include "check/verify_face.h"
#include "core/config.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ptim verify [options] [ORIGINAL] MASKED\n"
            "\n"
            "Checks MASKED for people who are still recognizable. Detection is tuned for\n"
            "recall (both BlazeFace models, tiled, low threshold) on every frame. With\n"
            "ORIGINAL (the check to trust), each face of the original is judged by the\n"
            "detail that identifies a person: its eyes, nose and mouth at one fixed scale,\n"
            "compared with the masked frame at the same timestamp. A face-shaped blur is\n"
            "not a leak; the original's features still in place are. Without ORIGINAL, a\n"
            "face the detector and FaceMesh confirm, with open detail, is a leak.\n"
            "\n"
            "options:\n"
            "  --json             print the report as JSON instead of text\n"
            "  --report FILE      also write the JSON report to FILE, and a picture of each\n"
            "                     leaked frame's face (masked | original) to FILE_frames/\n"
            "  --threshold S      detection score on a masked frame that counts as a face\n"
            "                     (0.5; on faces 20 px and wider FaceMesh must confirm it\n"
            "                     with presence 0.8 or more)\n"
            "  --presence P       FaceMesh presence reported as \"landmarks\" (0.9)\n"
            "  --detail C         identity detail correlation with the original that counts\n"
            "                     as recognizable (0.4; masks stay under 0.23, the original\n"
            "                     is 1.0, a blur of 0.02 face widths 0.3-0.75)\n"
            "  --open-detail D    without ORIGINAL: open detail that makes a confirmed\n"
            "                     detection a face (0.45; real faces 0.34-1.7, blurred\n"
            "                     blobs up to 0.39)\n"
            "  --no-landmarks     no FaceMesh: detections count unconfirmed, no landmarks check\n"
            "  --identity S       with ORIGINAL, also ask the recognizer: a masked face is a\n"
            "                     leak when MobileFaceNet matches it to the original person at\n"
            "                     that place with similarity S or more (try 0.95; see README:\n"
            "                     the recognizer still gives a blurred face ~0.9, so this only\n"
            "                     tells unmasked from masked); faces under 24 px: detail check\n"
            "  --identity-margin M  ... and at least M above the similarity of a hard blur of\n"
            "                     the original (0.1): a dark or tiny face says little either way\n"
            "  --no-identity      no recognizer (the default)\n"
            "  --every N          check every Nth frame (1)\n"
            "  --max-frames N     stop after N frames (all)\n"
            "  (with -q/--quiet only the summary line is printed)\n"
            "\n"
            "exit status: 0 no recognizable face, 1 a face is recognizable on some frame,\n"
            "2 bad usage or input, or the check could not run.\n\n");
    ptim_cli_print_common_help(f);
}

static int parse_float(const char *flag, const char *v, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || errno || d < lo || d > hi) {
        fprintf(stderr, "ptim verify: %s needs a number from %g to %g, not '%s'\n", flag, lo, hi,
                v ? v : "");
        return -1;
    }
    *out = (float)d;
    return 0;
}

static int parse_int(const char *flag, const char *v, long long lo, long long *out)
{
    char *end;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || end == v || *end || errno || n < lo) {
        fprintf(stderr, "ptim verify: %s needs a whole number of at least %lld, not '%s'\n", flag,
                lo, v ? v : "");
        return -1;
    }
    *out = n;
    return 0;
}

/* A progress line on a terminal (stderr), redrawn about ten times a second. */
static void show_progress(void *ctx, int64_t frame, int64_t total)
{
    (void)ctx;
    static struct timespec last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (frame > 0 && (total <= 0 || frame + 1 < total) &&
        (now.tv_sec - last.tv_sec) * 1000000000L + (now.tv_nsec - last.tv_nsec) < 100000000L)
        return;
    last = now;
    if (total > 0)
        fprintf(stderr, "\rverify: frame %lld of %lld (%d %%)\033[K", (long long)frame + 1, (long long)total,
                (int)(100 * (frame + 1) / total));
    else
        fprintf(stderr, "\rverify: frame %lld\033[K", (long long)frame + 1);
}

int cmd_verify(int argc, char **argv)
{
    verify_options opt;
    verify_options_default(&opt);
    bool json = false, quiet = false, landmarks = true, identity = false;
    const char *report_path = NULL;
    const char *files[2];
    int nfiles = 0;
    int status = 2;
    ptim_cli cli;
    ptim_error err = {0};
    if (ptim_cli_parse(&cli, argc, argv, &err)) {
        fprintf(stderr, "ptim verify: %s\n", err.message);
        return 2;
    }
    if (cli.help) {
        usage(stdout);
        ptim_cli_close(&cli);
        return 0;
    }
    quiet = cli.quiet;

    for (int i = 1; i < cli.argc; i++) {
        const char *a = cli.argv[i];
        const char *v = i + 1 < cli.argc ? cli.argv[i + 1] : NULL;
        long long n;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--no-landmarks")) {
            landmarks = false;
        } else if (!strcmp(a, "--no-identity")) {
            identity = false;
        } else if (!strcmp(a, "--identity-margin")) {
            if (parse_float(a, v, -2.0f, 2.0f, &opt.identity_margin))
                goto out;
            i++;
        } else if (!strcmp(a, "--identity")) {
            if (parse_float(a, v, -1.0f, 1.0f, &opt.identity_threshold))
                goto out;
            identity = true;
            i++;
        } else if (!strcmp(a, "--report")) {
            if (!v || !*v) {
                fprintf(stderr, "ptim verify: --report needs a file name\n");
                goto out;
            }
            report_path = v, i++;
        } else if (!strcmp(a, "--threshold")) {
            if (parse_float(a, v, 0.01f, 1.0f, &opt.leak_threshold))
                goto out;
            i++;
        } else if (!strcmp(a, "--presence")) {
            if (parse_float(a, v, 0.0f, 1.0f, &opt.presence_threshold))
                goto out;
            i++;
        } else if (!strcmp(a, "--detail")) {
            if (parse_float(a, v, -1.0f, 2.0f, &opt.unchanged_corr)) /* above 1: off */
                goto out;
            i++;
        } else if (!strcmp(a, "--open-detail")) {
            if (parse_float(a, v, 0.0f, 100.0f, &opt.open_detail))
                goto out;
            i++;
        } else if (!strcmp(a, "--every")) {
            if (parse_int(a, v, 1, &n))
                goto out;
            opt.every = n > 1000000 ? 1000000 : (int)n;
            i++;
        } else if (!strcmp(a, "--max-frames")) {
            if (parse_int(a, v, 1, &n))
                goto out;
            opt.max_frames = n;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ptim verify: unknown option '%s' (see ptim verify --help)\n", a);
            goto out;
        } else if (nfiles == 2) {
            fprintf(stderr, "ptim verify: too many files: give ORIGINAL MASKED, or MASKED alone\n");
            goto out;
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        usage(stderr);
        goto out;
    }

    /* Missing files first: a clear sentence before any model loads. */
    for (int i = 0; i < nfiles; i++)
        if (access(files[i], R_OK) != 0 && !strstr(files[i], "://")) {
            fprintf(stderr, "ptim verify: cannot open %s: %s\n", files[i], strerror(errno));
            goto out;
        }
    av_log_set_level(AV_LOG_QUIET);
    if (ptim_cli_open(&cli, &err)) {
        fprintf(stderr, "ptim verify: %s\n", err.message);
        goto out;
    }
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    verify_detector det;
    verify_face *vf = NULL;
    if (verify_face_open(cfg, landmarks, identity && nfiles == 2, &vf, &det, &err)) {
        fprintf(stderr, "ptim verify: %s\n", err.message);
        ptim_config_release(cfg);
        goto out;
    }
    /* Open the report file now: a bad path should not cost a whole run. */
    FILE *report = NULL;
    if (report_path && !(report = fopen(report_path, "w"))) {
        fprintf(stderr, "ptim verify: cannot write the report to %s: %s\n", report_path,
                strerror(errno));
        verify_face_close(vf);
        ptim_config_release(cfg);
        goto out;
    }
    /* Pictures of the leaked faces beside the report: REPORT minus its
     * extension, plus _frames/ (verify.json -> verify_frames/). */
    char thumb_dir[900] = "";
    if (report_path) {
        const char *dot = strrchr(report_path, '.'), *slash = strrchr(report_path, '/');
        int stem = (dot && (!slash || dot > slash)) ? (int)(dot - report_path) : (int)strlen(report_path);
        if (snprintf(thumb_dir, sizeof thumb_dir, "%.*s_frames", stem, report_path) < (int)sizeof thumb_dir &&
            (mkdir(thumb_dir, 0777) == 0 || errno == EEXIST)) {
            opt.thumbnail_dir = thumb_dir;
            opt.max_thumbnails = 200;
        }
    }
    verify_report rep;
    const char *original = nfiles == 2 ? files[0] : NULL;
    const char *masked = files[nfiles - 1];
    bool progress = !quiet && !json && isatty(STDERR_FILENO);
    if (progress)
        opt.progress = show_progress;
    int rc = verify_run(original, masked, &opt, &det, &rep, &err);
    if (progress)
        fputs("\r\033[K", stderr);
    verify_face_close(vf);
    ptim_config_release(cfg);
    if (rc) {
        fprintf(stderr, "ptim verify: %s\n", err.message);
        verify_report_free(&rep);
        if (report) {
            fclose(report);
            remove(report_path);
        }
        goto out;
    }

    char *doc = (json || report_path) ? verify_report_json(&rep) : NULL;
    if ((json || report_path) && !doc) {
        fprintf(stderr, "ptim verify: out of memory writing the report\n");
        verify_report_free(&rep);
        if (report)
            fclose(report);
        goto out;
    }
    status = rep.frames_leaked ? 1 : 0;
    if (report_path) {
        bool ok = fprintf(report, "%s\n", doc) >= 0;
        if (fclose(report) != 0)
            ok = false;
        if (!ok) {
            fprintf(stderr, "ptim verify: cannot write the report to %s: %s\n", report_path,
                    strerror(errno));
            if (status == 0) /* a leak stays exit 1 */
                status = 2;
        }
    }
    if (json)
        printf("%s\n", doc);
    else
        verify_report_print(&rep, stdout, quiet ? 0 : 50);
    if (!json && !quiet && rep.thumbnails > 0)
        printf("pictures of the leaked faces (masked | original): %s/\n", thumb_dir);
    else if (thumb_dir[0] && rep.thumbnails == 0)
        rmdir(thumb_dir); /* nothing to show: leave no empty folder (fails harmlessly if not empty) */
    free(doc);
    verify_report_free(&rep);
out:
    ptim_cli_close(&cli);
    return status;
}
