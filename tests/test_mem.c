/* core/mem: size classes, reuse, the 70 % rule (release, LZ4 compression,
 * dropping), critical eviction, budget failures, statistics, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static void test_size_classes(void **state)
{
    (void)state;
    assert_int_equal(ptim_mem_class_size(1), 256);
    assert_int_equal(ptim_mem_class_size(256), 256);
    assert_int_equal(ptim_mem_class_size(257), 320);
    assert_int_equal(ptim_mem_class_size(1024), 1024);
    assert_int_equal(ptim_mem_class_size(1025), 1280);
    /* a 1080p RGB frame: at most 25 % slack */
    size_t f = 1920 * 1080 * 3;
    assert_true(ptim_mem_class_size(f) >= f && ptim_mem_class_size(f) <= f + f / 4);
    for (size_t s = 1; s < 10 * MIB; s = s * 3 / 2 + 1)
        assert_true(ptim_mem_class_size(s) >= s && ptim_mem_class_size(s) <= s + s / 4 + 256);
    assert_int_equal(ptim_mem_class_size(SIZE_MAX), 0);
}

static void test_alloc_reuse_stats(void **state)
{
    (void)state;
    ptim_mem_pool *p;
    ptim_error err;
    assert_int_equal(ptim_mem_pool_create(64 * MIB, &p, &err), 0);
    void *a = ptim_mem_alloc(p, 1000 * KIB, PTIM_MEM_HIGH, &err);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % 64, 0);
    memset(a, 0xab, 1000 * KIB);
    assert_true(ptim_mem_usable_size(a) >= 1000 * KIB);
    ptim_mem_free(p, a);
    void *b = ptim_mem_alloc(p, 999 * KIB, PTIM_MEM_HIGH, &err); /* same class: reused */
    assert_ptr_equal(a, b);
    void *c = ptim_mem_alloc(p, 100, PTIM_MEM_LOW, &err);
    ptim_mem_stats s;
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.reused, 1);
    assert_true(s.reuse_rate > 0.33 && s.reuse_rate < 0.34);
    assert_int_equal(s.in_use, ptim_mem_usable_size(b) + 256);
    assert_int_equal(s.in_use_by_priority[PTIM_MEM_HIGH], ptim_mem_usable_size(b));
    assert_int_equal(s.in_use_by_priority[PTIM_MEM_LOW], 256);
    assert_int_equal(s.budget, 64 * MIB);
    ptim_mem_free(p, b);
    ptim_mem_free(p, c);
    ptim_mem_free(p, NULL);
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.peak, ptim_mem_usable_size(b) + 256);
    assert_int_equal(s.cached_free, ptim_mem_usable_size(b) + 256);
    assert_null(ptim_mem_alloc(p, 0, PTIM_MEM_LOW, &err));
    ptim_mem_pool_destroy(p);
}

static void test_budget_failure(void **state)
{
    (void)state;
    ptim_mem_pool *p;
    ptim_error err;
    assert_int_equal(ptim_mem_pool_create(10 * MIB, &p, &err), 0);
    void *a = ptim_mem_alloc(p, 6 * MIB, PTIM_MEM_HIGH, &err);
    assert_non_null(a);
    assert_null(ptim_mem_alloc(p, 6 * MIB, PTIM_MEM_HIGH, &err));
    assert_int_equal(err.category, PTIM_ERR_MEMORY);
    assert_int_equal(err.severity, PTIM_SEV_HIGH);
    assert_string_equal(err.message, "memory pool: 6291456 bytes at high priority do not fit the 10 MiB budget "
                                     "(6.0 MiB in use; raise performance.gpu_memory_pool_size_mb)");
    assert_null(ptim_mem_alloc(p, 6 * MIB, PTIM_MEM_CRITICAL, &err)); /* nothing evictable: fails */
    assert_int_equal(err.severity, PTIM_SEV_CRITICAL);
    ptim_mem_stats s;
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.failures, 2);
    ptim_mem_free(p, a);
    /* the cached free buffer is released to make room for another class */
    void *b = ptim_mem_alloc(p, 7 * MIB, PTIM_MEM_HIGH, &err);
    assert_non_null(b);
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.released, 1);
    assert_int_equal(s.cached_free, 0);
    ptim_mem_free(p, b);
    ptim_mem_pool_destroy(p);
    assert_int_equal(ptim_mem_pool_create(0, &p, &err), -1);
}

/* Compressible content: a smooth gradient (like a blurred preview). */
static unsigned char *gradient(size_t n, int seed)
{
    unsigned char *d = malloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)((i / 4096 + (size_t)seed) & 0xff);
    return d;
}

static unsigned char *noise(size_t n, unsigned seed)
{
    unsigned char *d = malloc(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        d[i] = (unsigned char)(seed >> 16);
    }
    return d;
}

static void test_pressure_compresses_low_priority(void **state)
{
    (void)state;
    ptim_mem_pool *p;
    ptim_error err;
    assert_int_equal(ptim_mem_pool_create(10 * MIB, &p, &err), 0);
    unsigned char *src[6];
    ptim_mem_entry *e[6];
    /* 6 x 1 MiB low-priority history entries: 60 %, under the threshold */
    for (int i = 0; i < 6; i++) {
        src[i] = gradient(MIB, i);
        e[i] = ptim_mem_cache_store(p, src[i], MIB, PTIM_MEM_LOW, &err);
        assert_non_null(e[i]);
    }
    ptim_mem_stats s;
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.compressions, 0);
    /* a 2 MiB frame pushes the pool past 70 %: the oldest low entries are compressed */
    void *frame = ptim_mem_alloc(p, 2 * MIB, PTIM_MEM_HIGH, &err);
    assert_non_null(frame);
    ptim_mem_get_stats(p, &s);
    assert_true(s.compressions >= 1);
    assert_int_equal(s.evictions, 0);
    assert_true(s.in_use + s.cached_free <= 7 * MIB);
    assert_true(ptim_mem_cache_compressed(p, e[0]));
    assert_false(ptim_mem_cache_compressed(p, e[5]));
    /* pinning gives back the same bytes */
    for (int i = 0; i < 6; i++) {
        const void *d = ptim_mem_cache_pin(p, e[i], &err);
        assert_non_null(d);
        assert_memory_equal(d, src[i], MIB);
        ptim_mem_cache_unpin(p, e[i]);
    }
    ptim_mem_get_stats(p, &s);
    assert_true(s.decompressions >= 1);
    for (int i = 0; i < 6; i++) {
        ptim_mem_cache_remove(p, e[i]);
        free(src[i]);
    }
    ptim_mem_free(p, frame);
    ptim_mem_pool_destroy(p);
}

static void test_pressure_drops_incompressible(void **state)
{
    (void)state;
    ptim_mem_pool *p;
    ptim_error err;
    assert_int_equal(ptim_mem_pool_create(10 * MIB, &p, &err), 0);
    ptim_mem_entry *e[6];
    unsigned char *src = noise(MIB, 7);
    for (int i = 0; i < 6; i++)
        e[i] = ptim_mem_cache_store(p, src, MIB, PTIM_MEM_LOW, &err);
    ptim_mem_entry *keep = ptim_mem_cache_store(p, src, MIB, PTIM_MEM_MEDIUM, &err); /* 70 %: not above */
    assert_non_null(keep);
    const void *pinned = ptim_mem_cache_pin(p, e[0], &err); /* the oldest, but pinned */
    void *frame = ptim_mem_alloc(p, 2 * MIB, PTIM_MEM_HIGH, &err);
    assert_non_null(frame);
    ptim_mem_stats s;
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.compressions, 0); /* noise does not compress */
    assert_true(s.evictions >= 2);
    assert_false(ptim_mem_cache_dropped(p, e[0]));
    assert_memory_equal(pinned, src, MIB);
    assert_true(ptim_mem_cache_dropped(p, e[1]));
    assert_null(ptim_mem_cache_pin(p, e[1], &err)); /* dropped: the owner recomputes */
    assert_false(ptim_mem_cache_dropped(p, keep));  /* medium is left alone by pressure */
    assert_true(s.in_use + s.cached_free <= 7 * MIB);
    ptim_mem_cache_unpin(p, e[0]);
    for (int i = 0; i < 6; i++)
        ptim_mem_cache_remove(p, e[i]);
    ptim_mem_cache_remove(p, keep);
    ptim_mem_free(p, frame);
    free(src);
    ptim_mem_pool_destroy(p);
}

static void test_critical_evicts(void **state)
{
    (void)state;
    ptim_mem_pool *p;
    ptim_error err;
    assert_int_equal(ptim_mem_pool_create(10 * MIB, &p, &err), 0);
    unsigned char *src = noise(MIB, 3);
    ptim_mem_entry *m[4];
    for (int i = 0; i < 4; i++)
        m[i] = ptim_mem_cache_store(p, src, MIB, PTIM_MEM_MEDIUM, &err);
    void *frames[3];
    for (int i = 0; i < 3; i++)
        frames[i] = ptim_mem_alloc(p, MIB, PTIM_MEM_HIGH, &err);
    /* 7 MiB held; a 5 MiB high request does not fit and may not evict medium */
    assert_null(ptim_mem_alloc(p, 5 * MIB, PTIM_MEM_HIGH, &err));
    for (int i = 0; i < 4; i++)
        assert_false(ptim_mem_cache_dropped(p, m[i]));
    /* the same request at critical priority evicts what it needs, oldest first */
    const void *pin = ptim_mem_cache_pin(p, m[3], &err);
    void *weights = ptim_mem_alloc(p, 5 * MIB, PTIM_MEM_CRITICAL, &err);
    assert_non_null(weights);
    memset(weights, 1, 5 * MIB);
    ptim_mem_stats s;
    ptim_mem_get_stats(p, &s);
    assert_true(s.evictions >= 2);
    assert_true(ptim_mem_cache_dropped(p, m[0]));
    assert_false(ptim_mem_cache_dropped(p, m[3])); /* pinned survives */
    assert_memory_equal(pin, src, MIB);
    assert_true(s.in_use <= 10 * MIB);
    ptim_mem_cache_unpin(p, m[3]);
    for (int i = 0; i < 4; i++)
        ptim_mem_cache_remove(p, m[i]);
    for (int i = 0; i < 3; i++)
        ptim_mem_free(p, frames[i]);
    ptim_mem_free(p, weights);
    ptim_mem_pool_destroy(p);
    free(src);
}

static void test_from_config(void **state)
{
    (void)state;
    const char *sets[] = {"performance.gpu_memory_pool_size_mb=300"};
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_new(sets, 1, &cfg, &err), 0);
    ptim_mem_pool *p;
    assert_int_equal(ptim_mem_pool_create_from_config(cfg, &p, &err), 0);
    ptim_mem_stats s;
    ptim_mem_get_stats(p, &s);
    assert_int_equal(s.budget, 300u * MIB);
    ptim_mem_pool_destroy(p);
    ptim_config_release(cfg);
}

static ptim_mem_pool *shared;
static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    ptim_error err;
    void *held[8] = {0};
    ptim_mem_entry *ent[4] = {0};
    unsigned char pattern[4096];
    memset(pattern, (int)seed, sizeof pattern);
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)(seed >> 16) % 8;
        if (held[k]) {
            ptim_mem_free(shared, held[k]);
            held[k] = NULL;
        } else {
            size_t n = 1000 + (seed >> 8) % (256 * KIB);
            held[k] = ptim_mem_alloc(shared, n, (ptim_mem_priority)(k % 3), &err);
            if (held[k])
                memset(held[k], k, n);
        }
        int j = (int)(seed >> 20) % 4;
        if (ent[j]) {
            const unsigned char *d = ptim_mem_cache_pin(shared, ent[j], &err);
            if (d && memcmp(d, pattern, sizeof pattern))
                abort(); /* an entry must come back intact or not at all */
            ptim_mem_cache_unpin(shared, ent[j]);
            ptim_mem_cache_remove(shared, ent[j]);
            ent[j] = NULL;
        } else {
            ent[j] = ptim_mem_cache_store(shared, pattern, sizeof pattern, PTIM_MEM_LOW, &err);
        }
    }
    for (int k = 0; k < 8; k++)
        ptim_mem_free(shared, held[k]);
    for (int j = 0; j < 4; j++)
        ptim_mem_cache_remove(shared, ent[j]);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    ptim_error err;
    assert_int_equal(ptim_mem_pool_create(4 * MIB, &shared, &err), 0);
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, worker, (void *)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ptim_mem_stats s;
    ptim_mem_get_stats(shared, &s);
    assert_int_equal(s.in_use, 0);
    assert_true(s.peak <= 4 * MIB);
    assert_true(s.requests >= 40000);
    assert_true(s.reused > 0);
    ptim_mem_pool_destroy(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_classes),
        cmocka_unit_test(test_alloc_reuse_stats),
        cmocka_unit_test(test_budget_failure),
        cmocka_unit_test(test_pressure_compresses_low_priority),
        cmocka_unit_test(test_pressure_drops_incompressible),
        cmocka_unit_test(test_critical_evicts),
        cmocka_unit_test(test_from_config),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
