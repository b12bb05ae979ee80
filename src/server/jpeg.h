/* server/jpeg — preview pictures: a frame offered by the pipeline (output,
 * and the source before masking when there is one) scaled to the preview
 * width and encoded as JPEG with FFmpeg's MJPEG encoder, in one of four
 * views. Runs on the server's worker thread only; reuses its scaler and
 * encoder between frames. */
#ifndef PTIM_SERVER_JPEG_H
#define PTIM_SERVER_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/preview.h"

typedef enum server_view {
    SERVER_VIEW_OUTPUT,  /* what ptim writes */
    SERVER_VIEW_SOURCE,  /* the input before masking */
    SERVER_VIEW_SIDE,    /* source | output, side by side */
    SERVER_VIEW_FACE,    /* the first face, cropped square from the source and enlarged */
    SERVER_VIEW__COUNT
} server_view;

const char *server_view_name(server_view v);
int server_view_parse(const char *name); /* -1 when unknown */
/* Views that need the unmasked source frame. */
static inline int server_view_needs_source(server_view v) { return v != SERVER_VIEW_OUTPUT; }

typedef struct server_jpeg server_jpeg;

server_jpeg *server_jpeg_new(void);
void server_jpeg_free(server_jpeg *j);

/* Encode view `v` of `f` at `width` pixels per view (height keeps the
 * aspect). On success *data (malloc'd, caller frees) holds *size bytes of
 * JPEG and 0 is returned; -1 on failure (out of memory, encoder error). A
 * view that needs the source falls back to the output when the frame has
 * none. */
int server_jpeg_encode(server_jpeg *j, const ptim_preview_frame *f, server_view v, int width,
                       uint8_t **data, size_t *size);

#endif
