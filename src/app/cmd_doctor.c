/* app/cmd_doctor — `ptim doctor`: versions (FFmpeg, XNNPACK), CPU features,
 * the models present and their SHA-256 against the pinned sums, and camera
 * devices. Exit 0 when everything ptim needs is in place, 1 when not. */
#include "app/commands.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xnnpack.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "app/cli.h"
#include "core/config.h"
#include "core/cpu.h"
#include "io/ffmpeg_libs.h"

static void usage(FILE *f)
{
    fputs("usage: ptim doctor [options]\n\n"
          "Prints versions of FFmpeg and XNNPACK, CPU features, the models found and whether\n"
          "their SHA-256 matches the pinned sums, and the camera devices. Exit status 1 when\n"
          "something ptim needs is missing.\n\n",
          f);
    ptim_cli_print_common_help(f);
}

/* Debian package version, for libraries without a version call. */
static void package_version(const char *pkg, char *out, size_t size)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "dpkg-query -W -f='${Version}' %s 2>/dev/null", pkg);
    snprintf(out, size, "unknown");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char buf[128];
    if (fgets(buf, sizeof buf, p) && *buf)
        snprintf(out, size, "%s (Debian package %s)", buf, pkg);
    pclose(p);
}

/* SHA-256 of a file as 64 hex digits; -1 when it cannot be read. */
static int sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct AVSHA *sha = av_sha_alloc();
    if (!sha || av_sha_init(sha, 256) < 0) {
        av_free(sha);
        fclose(f);
        return -1;
    }
    unsigned char buf[1 << 16], digest[32];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        av_sha_update(sha, buf, n);
    int bad = ferror(f);
    fclose(f);
    av_sha_final(sha, digest);
    av_free(sha);
    if (bad)
        return -1;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

/* Check every model named in the sums file; returns how many are wrong. */
static int check_models(const char *model_dir)
{
    char sums[4096];
    const char *places[] = {"%s/SHA256SUMS", PTIM_SOURCE_DIR "/scripts/SHA256SUMS.models%.0s"};
    FILE *f = NULL;
    for (int i = 0; i < 2 && !f; i++) {
        snprintf(sums, sizeof sums, places[i], model_dir);
        f = fopen(sums, "r");
    }
    printf("models (%s):\n", model_dir);
    if (!f) {
        printf("  no SHA256SUMS file found; cannot check the models\n");
        return 1;
    }
    int bad = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char want[65], name[512];
        if (sscanf(line, "%64s %511s", want, name) != 2)
            continue;
        char path[4700], got[65];
        snprintf(path, sizeof path, "%s/%s", model_dir, name);
        if (access(path, F_OK)) {
            printf("  %-36s MISSING\n", name);
            bad++;
        } else if (sha256_file(path, got)) {
            printf("  %-36s unreadable: %s\n", name, strerror(errno));
            bad++;
        } else if (strcmp(got, want)) {
            printf("  %-36s SHA-256 MISMATCH (%.16s…, want %.16s…)\n", name, got, want);
            bad++;
        } else {
            printf("  %-36s ok  sha256 %.16s…\n", name, got);
        }
    }
    fclose(f);
    if (bad)
        printf("  fix: run scripts/bootstrap.sh (or set system.model_dir / PTIM_SYSTEM_MODEL_DIR)\n");
    return bad;
}

static void list_cameras(void)
{
    printf("cameras:\n");
    DIR *d = opendir("/dev");
    int found = 0;
    struct dirent *e;
    char names[64][300];
    while (d && (e = readdir(d)) && found < 64)
        if (!strncmp(e->d_name, "video", 5))
            snprintf(names[found++], sizeof names[0], "/dev/%s", e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)found, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < found; i++) {
        int fd = open(names[i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
        struct v4l2_capability cap;
        if (fd < 0) {
            printf("  %-14s cannot open: %s\n", names[i], strerror(errno));
            continue;
        }
        if (ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0) {
            unsigned caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
            printf("  %-14s %s (%s)%s%s\n", names[i], (char *)cap.card, (char *)cap.driver,
                   caps & V4L2_CAP_VIDEO_CAPTURE ? " capture" : "", caps & V4L2_CAP_VIDEO_OUTPUT ? " output" : "");
        } else {
            printf("  %-14s not a V4L2 device\n", names[i]);
        }
        close(fd);
    }
    if (!found)
        printf("  none (no /dev/video* devices)\n");
}

int cmd_doctor(int argc, char **argv)
{
    ptim_cli cli;
    ptim_error err = {0};
    if (ptim_cli_start(&cli, argc, argv, &err))
        return ptim_cli_fail(&cli, &err);
    if (cli.help) {
        usage(stdout);
        ptim_cli_close(&cli);
        return 0;
    }
    if (cli.argc > 1) {
        fprintf(stderr, "ptim doctor: unexpected argument '%s'\n", cli.argv[1]);
        ptim_cli_close(&cli);
        return 2;
    }
    printf("ptim %s (%s)\n", PTIM_VERSION, PTIM_BUILD_FLAGS);
    printf("FFmpeg %s: libavcodec %d.%d.%d, libavformat %d.%d.%d, libavutil %d.%d.%d\n", av_version_info(),
           AV_VERSION_MAJOR(avcodec_version()), AV_VERSION_MINOR(avcodec_version()),
           AV_VERSION_MICRO(avcodec_version()), AV_VERSION_MAJOR(avformat_version()),
           AV_VERSION_MINOR(avformat_version()), AV_VERSION_MICRO(avformat_version()),
           AV_VERSION_MAJOR(avutil_version()), AV_VERSION_MINOR(avutil_version()),
           AV_VERSION_MICRO(avutil_version()));
    printf("  encoders: libx264 %s, mpeg4 %s\n", avcodec_find_encoder_by_name("libx264") ? "yes" : "no",
           avcodec_find_encoder_by_name("mpeg4") ? "yes" : "no");
    /* loaded on first use by a run (io/ffmpeg_libs.h); loaded here to check */
    ptim_error lerr = {0};
    int lazy_bad = 0;
    if (io_devices_register(&lerr) == 0)
        printf("  libavdevice (cameras, virtual cameras): loads\n");
    else
        printf("  libavdevice: %s\n", lerr.message), lazy_bad++;
    if (io_avfilter(&lerr))
        printf("  libavfilter (re-encoded audio, audio.voice): loads\n");
    else
        printf("  libavfilter: %s\n", lerr.message), lazy_bad++;
    char ver[256];
    package_version("libxnnpack0", ver, sizeof ver);
    enum xnn_status st = xnn_initialize(NULL);
    printf("XNNPACK %s: %s\n", ver, st == xnn_status_success ? "initializes" : "FAILS to initialize on this CPU");
    package_version("libpthreadpool0", ver, sizeof ver);
    printf("pthreadpool %s\n", ver);
    const ptim_cpu_info *cpu = ptim_cpu();
    printf("CPU: %s, %d logical cores\n  features: %s\n", cpu->model, cpu->cores,
           cpu->features[0] ? cpu->features : "(none of interest)");
    ptim_config *cfg = ptim_config_store_acquire(cli.store);
    printf("config file: %s\n", ptim_config_file(cfg) ? ptim_config_file(cfg) : "none");
    int bad = check_models(ptim_model_dir(cfg));
    ptim_config_release(cfg);
    list_cameras();
    if (st != xnn_status_success)
        bad++;
    bad += lazy_bad;
    printf("%s\n", bad ? "doctor: problems found (see above)" : "doctor: everything ptim needs is in place");
    ptim_cli_close(&cli);
    return bad ? 1 : 0;
}
