/* batch/sidecar — the record beside each batch output, OUTPUT.ptim.json,
 * that makes a batch idempotent and resumable.
 *
 * A record says what was done to which input with which settings:
 *   status            "done" or "failed" (then "reason": one sentence)
 *   input             the input's path or URL as listed
 *   input_size, input_mtime_ns, input_checksum
 *                     the input file when it was read: bytes, modification
 *                     time, SHA-256 of its first and last MiB (with the size)
 *   ptim_version      the version that wrote the output
 *   settings_digest   SHA-256 over every setting that can change output
 *                     pixels (and the contents of mask.image / swap.identity);
 *                     the cosmetic ones (log level, threads, buffers, retries,
 *                     timeouts: batch_setting_is_cosmetic) are left out
 *   settings          those settings' values, for people
 *   frames, frames_masked, frames_covered, frames_dropped, faces,
 *   covered_by_reason guard actions
 *   verify            absent, or {"result": "clean"|"leaked", frames_checked,
 *                     frames_leaked}
 *   output_size, wall_s, finished_at (UTC), host
 *
 * An output is up to date when its record says "done", names the same input
 * fingerprint, version and settings digest, the output file has the recorded
 * size, and (when verification is asked for) the record has a clean verify.
 * Records are written to NAME.partial and renamed, so a reader sees a whole
 * record or none. */
#ifndef PTIM_BATCH_SIDECAR_H
#define PTIM_BATCH_SIDECAR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"

#define BATCH_SIDECAR_SUFFIX ".ptim.json"

typedef struct batch_fingerprint {
    int64_t size;        /* bytes; -1 for a URL (nothing to compare) */
    int64_t mtime_ns;    /* modification time, ns since the epoch */
    char checksum[65];   /* hex SHA-256 of size, first MiB, last MiB; "" for a URL */
} batch_fingerprint;

/* Fingerprint a file (a URL gets size -1 and an empty checksum). -1 with a
 * PTIM_ERR_IO message when it cannot be read. */
int batch_fingerprint_input(const char *path, bool url, batch_fingerprint *fp, ptim_error *err);

/* True for settings that cannot change an output's pixels. */
bool batch_setting_is_cosmetic(const char *key);

/* Hex SHA-256 of the pixel-affecting settings (see above) into out[65]. -1
 * with a message when mask.image or swap.identity cannot be read. */
int batch_settings_digest(const ptim_config *cfg, char out[65], ptim_error *err);

typedef enum batch_verify_result {
    BATCH_VERIFY_NONE = 0, /* not asked for */
    BATCH_VERIFY_CLEAN,
    BATCH_VERIFY_LEAKED,
} batch_verify_result;

#define BATCH_GUARD_REASONS 4

typedef struct batch_record {
    bool done;
    char reason[512];          /* failed: why */
    char input[4096];
    batch_fingerprint fp;
    char version[32];
    char digest[65];
    int64_t frames, frames_masked, frames_covered, frames_dropped, faces;
    int64_t covered_by_reason[BATCH_GUARD_REASONS]; /* indexed by ptim_guard_reason */
    batch_verify_result verify;
    int64_t verify_frames_checked, verify_frames_leaked;
    int64_t output_size;
    double wall_s;
    char finished_at[32];      /* "2026-01-02T03:04:05Z" */
    char host[64];
} batch_record;

/* Write `rec` to `path` (via path.partial + rename); `cfg` (may be NULL)
 * adds the "settings" listing. */
int batch_sidecar_write(const char *path, const batch_record *rec, const ptim_config *cfg,
                        ptim_error *err);

/* Read a record; -1 with a message when missing, unreadable or not a record. */
int batch_sidecar_read(const char *path, batch_record *rec, ptim_error *err);
/* Parse record text (`len` bytes, need not be NUL-terminated). */
int batch_sidecar_parse(const char *text, size_t len, batch_record *rec, ptim_error *err);

/* Is the output described by `rec` up to date for this input, version and
 * settings? `why` gets the first difference (for --verbose). */
bool batch_sidecar_matches(const batch_record *rec, const batch_fingerprint *fp,
                           const char *digest, const char *output, bool want_verify, char *why,
                           size_t why_size);

#endif
