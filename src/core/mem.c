/* core/mem — see mem.h. One mutex per pool guards every list and counter;
 * the caller's work on its buffers happens outside it. */
#include "core/mem.h"

#include <lz4.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"

#define MIN_SHIFT 8  /* smallest class: 256 bytes */
#define MAX_SHIFT 40 /* largest: 1.75 TiB */
#define CLASSES ((MAX_SHIFT - MIN_SHIFT + 1) * 4)
#define MAGIC 0x7074696du /* "ptim" */
#define MIB (1024.0 * 1024.0)

typedef struct block {
    alignas(64) uint32_t magic;
    uint16_t cls;
    uint8_t prio;
    uint8_t in_free_list;
    struct block *next;
} block;
_Static_assert(sizeof(block) == 64, "the header keeps user data 64-byte aligned");

struct ptim_mem_entry {
    ptim_mem_entry *prev, *next; /* least recently used first */
    void *raw;                   /* uncompressed bytes (a pool buffer), or NULL */
    void *lz;                    /* compressed bytes (malloc), or NULL */
    size_t size, lz_size;
    ptim_mem_priority prio;
    int pins;
    int dropped;
};

struct ptim_mem_pool {
    pthread_mutex_t lock;
    size_t budget;
    size_t live;       /* buffers out with callers, cache entries' raw buffers included */
    size_t free_bytes; /* buffers in the free lists */
    size_t lz_bytes;   /* compressed entries */
    block *free_list[CLASSES];
    ptim_mem_entry *head, *tail;
    ptim_mem_stats st;
};

static size_t class_bytes(int cls)
{
    int e = MIN_SHIFT + cls / 4, q = cls % 4;
    return ((size_t)1 << e) + (size_t)q * ((size_t)1 << (e - 2));
}

static int class_of(size_t size)
{
    if (size <= ((size_t)1 << MIN_SHIFT))
        return 0;
    int e = 63 - __builtin_clzll((unsigned long long)size);
    size_t base = (size_t)1 << e, step = base >> 2;
    size_t q = (size - base + step - 1) / step;
    if (q == 4)
        e++, q = 0;
    if (e > MAX_SHIFT)
        return -1;
    return (e - MIN_SHIFT) * 4 + (int)q;
}

size_t ptim_mem_class_size(size_t size)
{
    int c = class_of(size);
    return c < 0 ? 0 : class_bytes(c);
}

static block *header(const void *data)
{
    return (block *)((char *)data - sizeof(block));
}

static size_t usage(const ptim_mem_pool *p)
{
    return p->live + p->free_bytes + p->lz_bytes;
}

static void note_in_use(ptim_mem_pool *p)
{
    p->st.in_use = p->live + p->lz_bytes;
    if (p->st.in_use > p->st.peak)
        p->st.peak = p->st.in_use;
}

/* ---- under the lock ---- */

static void release_free(ptim_mem_pool *p, size_t target)
{
    for (int c = CLASSES - 1; c >= 0 && usage(p) > target; c--)
        while (p->free_list[c] && usage(p) > target) {
            block *b = p->free_list[c];
            p->free_list[c] = b->next;
            p->free_bytes -= class_bytes(c);
            p->st.released++;
            b->magic = 0;
            free(b);
        }
}

static void unlink_entry(ptim_mem_pool *p, ptim_mem_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else if (p->head == e)
        p->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else if (p->tail == e)
        p->tail = e->prev;
    e->prev = e->next = NULL;
}

static void append_entry(ptim_mem_pool *p, ptim_mem_entry *e)
{
    e->prev = p->tail;
    e->next = NULL;
    if (p->tail)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
}

static void give_back(ptim_mem_pool *p, block *b)
{
    size_t n = class_bytes(b->cls);
    p->live -= n;
    p->st.in_use_by_priority[b->prio] -= n;
    p->free_bytes += n;
    b->in_free_list = 1;
    b->next = p->free_list[b->cls];
    p->free_list[b->cls] = b;
}

static void free_entry_data(ptim_mem_pool *p, ptim_mem_entry *e)
{
    if (e->raw) {
        give_back(p, header(e->raw));
        e->raw = NULL;
    }
    if (e->lz) {
        free(e->lz);
        p->lz_bytes -= e->lz_size;
        p->st.in_use_by_priority[e->prio] -= e->lz_size;
        p->st.compressed -= e->lz_size;
        e->lz = NULL;
        e->lz_size = 0;
    }
    note_in_use(p);
}

static void drop_entry(ptim_mem_pool *p, ptim_mem_entry *e)
{
    free_entry_data(p, e);
    e->dropped = 1;
    unlink_entry(p, e);
    p->st.evictions++;
}

/* LZ4 one entry; keeps it raw when that would not save at least 10 %. */
static void compress_entry(ptim_mem_pool *p, ptim_mem_entry *e)
{
    if (e->size > (size_t)LZ4_MAX_INPUT_SIZE)
        return;
    int bound = LZ4_compressBound((int)e->size);
    char *lz = malloc((size_t)bound);
    if (!lz)
        return;
    int n = LZ4_compress_default(e->raw, lz, (int)e->size, bound);
    if (n <= 0 || (size_t)n > e->size - e->size / 10) {
        free(lz);
        return;
    }
    char *shrunk = realloc(lz, (size_t)n);
    e->lz = shrunk ? shrunk : lz;
    e->lz_size = (size_t)n;
    p->lz_bytes += e->lz_size;
    p->st.compressed += e->lz_size;
    p->st.in_use_by_priority[e->prio] += e->lz_size;
    give_back(p, header(e->raw));
    e->raw = NULL;
    p->st.compressions++;
    note_in_use(p);
}

/* Bring usage down to `target`: release cached buffers, compress then drop
 * unpinned low-priority entries; with `evict_all`, drop every unpinned entry. */
static void relieve(ptim_mem_pool *p, size_t target, int evict_all)
{
    release_free(p, target);
    for (ptim_mem_entry *e = p->head; e && usage(p) > target; e = e->next)
        if (e->prio == PTIM_MEM_LOW && !e->pins && e->raw) {
            compress_entry(p, e);
            release_free(p, target);
        }
    for (ptim_mem_entry *e = p->head, *n; e && usage(p) > target; e = n) {
        n = e->next;
        if (e->prio == PTIM_MEM_LOW && !e->pins) {
            drop_entry(p, e);
            release_free(p, target);
        }
    }
    for (ptim_mem_entry *e = p->head, *n; evict_all && e && usage(p) > target; e = n) {
        n = e->next;
        if (!e->pins) {
            drop_entry(p, e);
            release_free(p, target);
        }
    }
}

static size_t soft_limit(const ptim_mem_pool *p)
{
    return p->budget / 10 * 7 + p->budget % 10 * 7 / 10;
}

/* A buffer of class `cls` for priority `prio`, or NULL with err set. */
static void *take(ptim_mem_pool *p, int cls, ptim_mem_priority prio, size_t asked, ptim_error *err)
{
    size_t n = class_bytes(cls);
    bool injected = ptim_fault_hit(PTIM_FAULT_ALLOC);
    block *b = injected ? NULL : p->free_list[cls];
    if (b) {
        p->free_list[cls] = b->next;
        p->free_bytes -= n;
        p->st.reused++;
    } else {
        if (usage(p) + n > p->budget)
            relieve(p, n > p->budget ? 0 : p->budget - n, prio == PTIM_MEM_CRITICAL);
        b = NULL;
        if (usage(p) + n <= p->budget && !injected)
            b = aligned_alloc(64, sizeof(block) + n);
        if (!b) {
            p->st.failures++;
            ptim_error_set(err, PTIM_ERR_MEMORY, prio == PTIM_MEM_CRITICAL ? PTIM_SEV_CRITICAL : PTIM_SEV_HIGH,
                           "memory pool: %zu bytes at %s priority do not fit the %.0f MiB budget "
                           "(%.1f MiB in use; raise performance.gpu_memory_pool_size_mb)",
                           asked, prio == PTIM_MEM_CRITICAL ? "critical" : prio == PTIM_MEM_HIGH ? "high"
                                  : prio == PTIM_MEM_MEDIUM ? "medium" : "low",
                           (double)p->budget / MIB, (double)(p->live + p->lz_bytes) / MIB);
            return NULL;
        }
        b->magic = MAGIC;
        b->cls = (uint16_t)cls;
    }
    b->prio = (uint8_t)prio;
    b->in_free_list = 0;
    b->next = NULL;
    p->live += n;
    p->st.in_use_by_priority[prio] += n;
    note_in_use(p);
    return b + 1;
}

/* ---- public ---- */

int ptim_mem_pool_create(size_t budget, ptim_mem_pool **out, ptim_error *err)
{
    if (!budget)
        return ptim_error_set(err, PTIM_ERR_CONFIG, PTIM_SEV_HIGH, "memory pool: a budget of 0 bytes");
    ptim_mem_pool *p = calloc(1, sizeof *p);
    if (!p)
        return ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_CRITICAL, "out of memory creating the memory pool");
    pthread_mutex_init(&p->lock, NULL);
    p->budget = p->st.budget = budget;
    *out = p;
    return 0;
}

int ptim_mem_pool_create_from_config(const ptim_config *cfg, ptim_mem_pool **out, ptim_error *err)
{
    int64_t mb = ptim_config_int(cfg, "performance.gpu_memory_pool_size_mb");
    return ptim_mem_pool_create((size_t)mb * 1024 * 1024, out, err);
}

void ptim_mem_pool_destroy(ptim_mem_pool *p)
{
    if (!p)
        return;
    /* Entries first (their raw buffers go to the free lists), then the lists.
     * Buffers still out with callers are the callers' leak; we cannot find
     * them without a registry, and keeping one costs every request. */
    while (p->head) {
        ptim_mem_entry *e = p->head;
        free_entry_data(p, e);
        unlink_entry(p, e);
        free(e);
    }
    release_free(p, 0);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void *ptim_mem_alloc(ptim_mem_pool *p, size_t size, ptim_mem_priority prio, ptim_error *err)
{
    if (!size || prio < 0 || prio >= PTIM_MEM__PRIORITIES) {
        ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "memory pool: request of %zu bytes at priority %d", size,
                       (int)prio);
        return NULL;
    }
    int cls = class_of(size);
    pthread_mutex_lock(&p->lock);
    p->st.requests++;
    void *data = NULL;
    if (cls < 0) {
        p->st.failures++;
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "memory pool: %zu bytes is larger than any buffer", size);
    } else {
        data = take(p, cls, prio, size, err);
    }
    if (usage(p) > soft_limit(p))
        relieve(p, soft_limit(p), 0);
    pthread_mutex_unlock(&p->lock);
    return data;
}

void ptim_mem_free(ptim_mem_pool *p, void *data)
{
    if (!data)
        return;
    block *b = header(data);
    if (b->magic != MAGIC || b->in_free_list) {
        /* Freeing twice or a foreign pointer: a programming error that would
         * corrupt the lists; stop here rather than later. */
        fprintf(stderr, "ptim: internal error: ptim_mem_free of a pointer the pool does not own or already freed\n");
        abort();
    }
    pthread_mutex_lock(&p->lock);
    give_back(p, b);
    note_in_use(p);
    if (usage(p) > soft_limit(p))
        relieve(p, soft_limit(p), 0);
    pthread_mutex_unlock(&p->lock);
}

size_t ptim_mem_usable_size(const void *data)
{
    return data ? class_bytes(header(data)->cls) : 0;
}

ptim_mem_entry *ptim_mem_cache_store(ptim_mem_pool *p, const void *data, size_t size, ptim_mem_priority prio,
                                     ptim_error *err)
{
    if (prio != PTIM_MEM_LOW)
        prio = PTIM_MEM_MEDIUM;
    ptim_mem_entry *e = calloc(1, sizeof *e);
    if (!e) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "out of memory storing a cache entry");
        return NULL;
    }
    e->raw = ptim_mem_alloc(p, size ? size : 1, prio, err);
    if (!e->raw) {
        free(e);
        return NULL;
    }
    memcpy(e->raw, data, size);
    e->size = size;
    e->prio = prio;
    pthread_mutex_lock(&p->lock);
    append_entry(p, e);
    if (usage(p) > soft_limit(p))
        relieve(p, soft_limit(p), 0);
    pthread_mutex_unlock(&p->lock);
    return e;
}

const void *ptim_mem_cache_pin(ptim_mem_pool *p, ptim_mem_entry *e, ptim_error *err)
{
    pthread_mutex_lock(&p->lock);
    if (e->dropped) {
        pthread_mutex_unlock(&p->lock);
        ptim_error_clear(err);
        return NULL;
    }
    if (!e->raw) {
        int cls = class_of(e->size ? e->size : 1);
        e->pins++; /* keep it while we make room */
        void *raw = take(p, cls, e->prio, e->size, err);
        e->pins--;
        if (!raw) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        if (LZ4_decompress_safe(e->lz, raw, (int)e->lz_size, (int)e->size) != (int)e->size) {
            give_back(p, header(raw));
            pthread_mutex_unlock(&p->lock);
            ptim_error_set(err, PTIM_ERR_INTERNAL, PTIM_SEV_HIGH, "memory pool: a compressed cache entry is damaged");
            return NULL;
        }
        free(e->lz);
        p->lz_bytes -= e->lz_size;
        p->st.compressed -= e->lz_size;
        p->st.in_use_by_priority[e->prio] -= e->lz_size;
        e->lz = NULL;
        e->lz_size = 0;
        e->raw = raw;
        p->st.decompressions++;
        note_in_use(p);
    }
    e->pins++;
    unlink_entry(p, e); /* most recently used */
    append_entry(p, e);
    const void *data = e->raw;
    pthread_mutex_unlock(&p->lock);
    return data;
}

void ptim_mem_cache_unpin(ptim_mem_pool *p, ptim_mem_entry *e)
{
    pthread_mutex_lock(&p->lock);
    if (e->pins > 0)
        e->pins--;
    if (!e->pins && usage(p) > soft_limit(p))
        relieve(p, soft_limit(p), 0);
    pthread_mutex_unlock(&p->lock);
}

int ptim_mem_cache_dropped(ptim_mem_pool *p, const ptim_mem_entry *e)
{
    pthread_mutex_lock(&p->lock);
    int d = e->dropped;
    pthread_mutex_unlock(&p->lock);
    return d;
}

int ptim_mem_cache_compressed(ptim_mem_pool *p, const ptim_mem_entry *e)
{
    pthread_mutex_lock(&p->lock);
    int c = e->lz != NULL;
    pthread_mutex_unlock(&p->lock);
    return c;
}

size_t ptim_mem_cache_size(const ptim_mem_entry *e)
{
    return e->size;
}

void ptim_mem_cache_remove(ptim_mem_pool *p, ptim_mem_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&p->lock);
    free_entry_data(p, e);
    if (!e->dropped)
        unlink_entry(p, e);
    pthread_mutex_unlock(&p->lock);
    free(e);
}

void ptim_mem_trim(ptim_mem_pool *p)
{
    pthread_mutex_lock(&p->lock);
    if (usage(p) > soft_limit(p))
        relieve(p, soft_limit(p), 0);
    pthread_mutex_unlock(&p->lock);
}

void ptim_mem_get_stats(ptim_mem_pool *p, ptim_mem_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    out->cached_free = p->free_bytes;
    out->in_use = p->live + p->lz_bytes;
    pthread_mutex_unlock(&p->lock);
    out->reuse_rate = out->requests ? (double)out->reused / (double)out->requests : 0;
}
