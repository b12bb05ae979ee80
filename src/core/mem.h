/* core/mem — a budgeted buffer pool with size classes and priorities.
 *
 * Two kinds of memory come from a pool:
 *
 *  - Buffers: ptim_mem_alloc()/ptim_mem_free(). Sizes are rounded up to a
 *    size class (4 per power of two, so at most 25 % slack); a freed buffer
 *    stays cached in its class for the next request of that class (reuse).
 *    The data pointer is 64-byte aligned and stays valid until freed.
 *
 *  - Cache entries: ptim_mem_cache_store() copies data the owner can
 *    recompute (previews, history, decoded stills). While not pinned the pool
 *    may compress an entry with LZ4 or drop it; ptim_mem_cache_pin() gives
 *    the bytes back (decompressing) or NULL when it was dropped.
 *
 * Budget (performance.gpu_memory_pool_size_mb, used for the CPU pool): when
 * what the pool holds passes 70 % of it, cached free buffers are released
 * and low-priority cache entries are compressed, then dropped. A request
 * that would not fit first does the same; a critical request (model weights,
 * arenas) also evicts every unpinned cache entry of any priority. A request
 * that still does not fit fails with a PTIM_ERR_MEMORY error naming the
 * budget. Every call is thread-safe (one lock per pool; nothing is held
 * while the caller works on its memory). */
#ifndef PTIM_CORE_MEM_H
#define PTIM_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"

typedef enum ptim_mem_priority {
    PTIM_MEM_CRITICAL, /* model weights and arenas: evicts others to fit */
    PTIM_MEM_HIGH,     /* frames in flight */
    PTIM_MEM_MEDIUM,   /* caches that are costly to rebuild */
    PTIM_MEM_LOW,      /* previews, history: compressed or dropped first */
    PTIM_MEM__PRIORITIES
} ptim_mem_priority;

typedef struct ptim_mem_pool ptim_mem_pool;
typedef struct ptim_mem_entry ptim_mem_entry;

typedef struct ptim_mem_stats {
    size_t budget;             /* bytes */
    size_t in_use;             /* buffers held by callers + cache entries (compressed size when compressed) */
    size_t peak;               /* highest in_use */
    size_t cached_free;        /* freed buffers kept for reuse */
    size_t compressed;         /* bytes of compressed cache entries */
    uint64_t requests;         /* ptim_mem_alloc calls */
    uint64_t reused;           /* of those, served from a cached buffer */
    double reuse_rate;         /* reused / requests */
    uint64_t failures;         /* requests that did not fit */
    uint64_t evictions;        /* cache entries dropped */
    uint64_t released;         /* cached free buffers given back to the system */
    uint64_t compressions;     /* cache entries compressed */
    uint64_t decompressions;
    size_t in_use_by_priority[PTIM_MEM__PRIORITIES];
} ptim_mem_stats;

int ptim_mem_pool_create(size_t budget_bytes, ptim_mem_pool **out, ptim_error *err);
/* Budget from performance.gpu_memory_pool_size_mb (MiB). */
int ptim_mem_pool_create_from_config(const ptim_config *cfg, ptim_mem_pool **out, ptim_error *err);
/* Frees everything, including buffers callers did not free. */
void ptim_mem_pool_destroy(ptim_mem_pool *pool);

/* At least `size` bytes (size > 0), 64-byte aligned, or NULL with err set. */
void *ptim_mem_alloc(ptim_mem_pool *pool, size_t size, ptim_mem_priority priority, ptim_error *err);
/* Back to the pool (cached for reuse). NULL is a no-op. */
void ptim_mem_free(ptim_mem_pool *pool, void *data);
/* The usable size of a buffer from ptim_mem_alloc (its size class). */
size_t ptim_mem_usable_size(const void *data);

/* Copy `size` bytes into a new cache entry of `priority` (MEDIUM or LOW;
 * others are treated as MEDIUM). NULL with err set when it does not fit. */
ptim_mem_entry *ptim_mem_cache_store(ptim_mem_pool *pool, const void *data, size_t size,
                                     ptim_mem_priority priority, ptim_error *err);
/* The entry's bytes, decompressed when needed and held until unpin; NULL when
 * the pool dropped the entry (recompute and store again) or when it cannot be
 * decompressed within the budget (err says which; err may be NULL). */
const void *ptim_mem_cache_pin(ptim_mem_pool *pool, ptim_mem_entry *entry, ptim_error *err);
void ptim_mem_cache_unpin(ptim_mem_pool *pool, ptim_mem_entry *entry);
/* 1 when the pool dropped it. */
int ptim_mem_cache_dropped(ptim_mem_pool *pool, const ptim_mem_entry *entry);
/* 1 when it is held compressed right now. */
int ptim_mem_cache_compressed(ptim_mem_pool *pool, const ptim_mem_entry *entry);
size_t ptim_mem_cache_size(const ptim_mem_entry *entry);
/* Remove the entry (pinned or not, dropped or not); the handle is gone. */
void ptim_mem_cache_remove(ptim_mem_pool *pool, ptim_mem_entry *entry);

/* Apply the 70 % rule now (it also runs on every request). */
void ptim_mem_trim(ptim_mem_pool *pool);
void ptim_mem_get_stats(ptim_mem_pool *pool, ptim_mem_stats *out);

/* Size class of a request: the bytes actually reserved. 0 when too large. */
size_t ptim_mem_class_size(size_t size);

#endif
