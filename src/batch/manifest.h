/* batch/manifest — what a batch works on: manifest lines (or command-line
 * entries) turned into inputs, each with a deterministic, unique output path
 * under the output directory, and the shard of them one process takes.
 *
 * Entries: a file path, a URL (scheme://…), a directory (walked recursively
 * for pictures and videos, sorted by name, hidden entries and *.partial
 * skipped), or a glob (`*`, `?`, `[`) expanded by glob(3). Relative paths are
 * relative to the current directory. A manifest has one entry per line;
 * blank lines and lines whose first non-blank character is `#` are skipped;
 * surrounding blanks and a CR before the newline are trimmed.
 *
 * Output key (the output's path relative to the output directory): the
 * input's path with "." segments and repeated slashes removed, ".." segments
 * written as "__parent__", and a leading "/" dropped — "clips/a.mp4" ->
 * "clips/a.mp4", "/data/cam1/b.avi" -> "data/cam1/b.avi"; a URL maps to
 * "url/HOST/PATH" (".mp4" appended when the path has no extension). The
 * layout is kept, and distinct inputs get distinct keys; the same input
 * listed twice is one input. Two different inputs that would still meet on
 * one key are refused (batch_plan_check).
 *
 * Shards: input i belongs to shard (FNV-1a 64 of its key) mod N, so N
 * processes given the same manifest take disjoint sets that cover every input,
 * without talking to each other, and about N-th of the inputs each. */
#ifndef PTIM_BATCH_MANIFEST_H
#define PTIM_BATCH_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct batch_input {
    char *path;  /* what is opened: a file path or URL (owned) */
    char *key;   /* output path relative to the output directory (owned) */
    bool url;
} batch_input;

typedef struct batch_plan {
    batch_input *items; /* in manifest order, owned */
    int count, cap;
} batch_plan;

/* Add one entry. `skip_dir` (may be NULL) is a directory the walk never
 * enters (the output directory). An entry that names nothing that exists is
 * still added as a file: it fails alone when processed. -1 with *err on no
 * memory or an unreadable directory. */
int batch_plan_add_entry(batch_plan *plan, const char *entry, const char *skip_dir, ptim_error *err);

/* Every entry of a manifest file (`-`: standard input). */
int batch_plan_read_manifest(batch_plan *plan, const char *file, const char *skip_dir,
                             ptim_error *err);

/* Split manifest text into entries: calls `fn` for each (a NUL-terminated,
 * trimmed line); stops at the first non-zero return and returns it. `text`
 * need not be NUL-terminated; lines longer than 4095 bytes are an error
 * (-1, *err names the line). */
int batch_manifest_lines(const char *text, size_t len, const char *name,
                         int (*fn)(void *ctx, const char *entry, ptim_error *err), void *ctx,
                         ptim_error *err);

/* The output key of an input path or URL into buf; -1 when it does not fit
 * or is empty. */
int batch_output_key(const char *path, char *buf, size_t size);

/* FNV-1a 64 of a key: the shard hash. */
uint64_t batch_key_hash(const char *key);

/* Parse "I/N" (0 <= I < N <= 100000); -1 with a PTIM_ERR_CONFIG message. */
int batch_parse_shard(const char *text, int *index, int *count, ptim_error *err);

/* Keep only the inputs of shard `index` of `count` (order kept). */
void batch_plan_shard(batch_plan *plan, int index, int count);

/* Drop repeated inputs (the same path listed twice: the first stays) and
 * refuse a plan where two different inputs map onto one output key (-1, a
 * PTIM_ERR_CONFIG message naming both). Call before batch_plan_shard. */
int batch_plan_check(batch_plan *plan, ptim_error *err);

void batch_plan_free(batch_plan *plan);

#endif
