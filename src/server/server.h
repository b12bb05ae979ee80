/* server/server — the HTTP control panel of `ptim run --http` and `ptim
 * mask --http` (libmicrohttpd, a thread per connection, bounded).
 *
 *   GET  /, /panel.css, /panel.js   the embedded page (no other static path exists)
 *   GET  /healthz                   "ok"
 *   GET  /api/options               the option table (types, ranges, choices, live, help)
 *   GET  /api/config                every setting's current value, typed
 *   PATCH /api/config               {key: value, …}: validated by the option table,
 *                                   all or nothing, applied between frames (400 + sentence)
 *   GET  /api/stats                 statistics, sampled once a second, with 60 s of history
 *   POST /api/identity              {"filename", "data": base64 picture} -> userdata/uploads/,
 *                                   checked by decoding it, then swap.identity set and
 *                                   the running masker's verdict awaited (up to 20 s): in
 *                                   use ("applied": true), or refused (400 + reason; the
 *                                   option is put back, the file removed)
 *   POST /api/mask-image            the same for mask.image
 *   POST /api/swap-model            {"filename", "data": base64 .dfm or inswapper .onnx}:
 *                                   read with the ONNX reader and checked (face/nswap)
 *                                   before swap.model is set; 400 + reason, file removed
 *   POST /api/swap-encoder          the same for swap.encoder (an ArcFace encoder)
 *   POST /api/recording             {"recording": true|false}: the output, full size, as
 *                                   H.264 MP4 into userdata/recordings/ (pipeline/recorder);
 *                                   the answer waits until the file is open / finished
 *   GET  /metrics                   Prometheus text format
 *   GET  /preview.mjpeg?view=V      multipart JPEG stream, V = output|source|side|face
 *   GET  /preview.jpg?view=V        one picture
 *
 * Security: a loopback listen address serves only Host headers naming
 * loopback (DNS rebinding); any other address requires the bearer token
 * (server.token, or one generated and printed at start) in Authorization or
 * ?token=. Requests that change state need Content-Type application/json and
 * a same-origin (or no) Origin; bodies over server.max_body_mb get 413;
 * at most server.max_clients connections. The read-only server (`ptim
 * mask`) refuses every state change with 403.
 *
 * The pipeline is never waited for: preview frames come through a
 * ptim_preview slot (pipeline/preview.h), statistics from atomic counters. */
#ifndef PTIM_SERVER_SERVER_H
#define PTIM_SERVER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "pipeline/preview.h"
#include "pipeline/recorder.h"
#include "pipeline/stats.h"

typedef struct ptim_server ptim_server;

typedef struct ptim_server_desc {
    ptim_config_store *store;  /* settings read and changed live; not owned, outlives the server */
    bool read_only;            /* no state changes (ptim mask --http) */
    const char *userdata_dir;  /* uploads and recordings go below it; NULL: refused */
    const char *name;          /* message prefix, "ptim run" */
} ptim_server_desc;

/* Listen per the store's server.* settings and start serving. Prints the
 * URL (and a generated token) on stderr. Errors: a bad address or token
 * (PTIM_ERR_CONFIG), a port in use (PTIM_ERR_NETWORK). */
int ptim_server_start(const ptim_server_desc *desc, ptim_server **out, ptim_error *err);

/* The slot the pipeline offers preview frames to (owned by the server). */
ptim_preview *ptim_server_preview(ptim_server *s);
/* The recording the pipeline's sink thread writes when the panel asks
 * (owned by the server; NULL when s is NULL). */
ptim_recorder *ptim_server_recorder(ptim_server *s);

/* A pipeline run begins / ends: statistics are read from `stats` (atomic
 * counters, must stay valid until detach) while attached. */
void ptim_server_attach(ptim_server *s, const ptim_pipeline_stats *stats, const char *input,
                        const char *output, int item, int items);
void ptim_server_detach(ptim_server *s);

/* "http://127.0.0.1:8642/" */
const char *ptim_server_url(const ptim_server *s);

/* Stop serving, close every connection, free. NULL is a no-op. */
void ptim_server_stop(ptim_server *s);

#endif
