/* io/ffmpeg_libs — libavdevice and libavfilter loaded on first use (see the
 * header for why). */
#include "io/ffmpeg_libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include <libavdevice/version_major.h>
#include <libavfilter/version_major.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define AVDEVICE_SONAME "libavdevice.so." STR(LIBAVDEVICE_VERSION_MAJOR)
#define AVFILTER_SONAME "libavfilter.so." STR(LIBAVFILTER_VERSION_MAJOR)

/* A library opened once: its handle, and why it cannot be used (empty when
 * it can). RTLD_GLOBAL is not needed (ptim calls into it only through the
 * pointers resolved here). */
typedef struct lazy_lib {
    pthread_once_t once;
    void *handle;
    char why[256];
} lazy_lib;

static bool open_lib(lazy_lib *l, const char *soname)
{
    l->handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!l->handle) {
        const char *e = dlerror();
        snprintf(l->why, sizeof l->why, "%s", e ? e : "unknown reason");
    }
    return l->handle != NULL;
}

static lazy_lib avdevice = {.once = PTHREAD_ONCE_INIT};
static lazy_lib avfilter = {.once = PTHREAD_ONCE_INIT};
static io_avfilter_api avfilter_api;

static void load_avdevice(void)
{
    if (!open_lib(&avdevice, AVDEVICE_SONAME))
        return;
    void (*register_all)(void) = NULL;
    *(void **)&register_all = dlsym(avdevice.handle, "avdevice_register_all");
    if (register_all)
        register_all();
    else
        snprintf(avdevice.why, sizeof avdevice.why, "avdevice_register_all is missing from it");
}

int io_devices_register(ptim_error *err)
{
    pthread_once(&avdevice.once, load_avdevice);
    if (!avdevice.why[0])
        return 0;
    return ptim_error_set(err, PTIM_ERR_DEVICE, PTIM_SEV_HIGH,
                          "cameras and virtual cameras need " AVDEVICE_SONAME
                          " (Debian package libavdevice%d), which cannot be loaded: %s",
                          LIBAVDEVICE_VERSION_MAJOR, avdevice.why);
}

static void load_avfilter(void)
{
    if (!open_lib(&avfilter, AVFILTER_SONAME))
        return;
    struct {
        void **slot;
        const char *name;
    } fns[] = {
        {(void **)&avfilter_api.graph_alloc, "avfilter_graph_alloc"},
        {(void **)&avfilter_api.graph_free, "avfilter_graph_free"},
        {(void **)&avfilter_api.get_by_name, "avfilter_get_by_name"},
        {(void **)&avfilter_api.graph_create_filter, "avfilter_graph_create_filter"},
        {(void **)&avfilter_api.inout_alloc, "avfilter_inout_alloc"},
        {(void **)&avfilter_api.inout_free, "avfilter_inout_free"},
        {(void **)&avfilter_api.graph_parse_ptr, "avfilter_graph_parse_ptr"},
        {(void **)&avfilter_api.graph_config, "avfilter_graph_config"},
        {(void **)&avfilter_api.buffersrc_add_frame, "av_buffersrc_add_frame"},
        {(void **)&avfilter_api.buffersink_get_frame, "av_buffersink_get_frame"},
        {(void **)&avfilter_api.buffersink_get_time_base, "av_buffersink_get_time_base"},
        {(void **)&avfilter_api.buffersink_set_frame_size, "av_buffersink_set_frame_size"},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (!(*fns[i].slot = dlsym(avfilter.handle, fns[i].name))) {
            snprintf(avfilter.why, sizeof avfilter.why, "%s is missing from it", fns[i].name);
            return;
        }
}

const io_avfilter_api *io_avfilter(ptim_error *err)
{
    pthread_once(&avfilter.once, load_avfilter);
    if (!avfilter.why[0])
        return &avfilter_api;
    ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH,
                   "re-encoding audio needs " AVFILTER_SONAME
                   " (Debian package libavfilter%d), which cannot be loaded: %s",
                   LIBAVFILTER_VERSION_MAJOR, avfilter.why);
    return NULL;
}
