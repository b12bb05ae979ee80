/* tests/alloc_counter.h — counts every allocation of the test process, for
 * the "allocates nothing" tests: malloc and friends are interposed (glibc's
 * own entry points do the work), or, under ASan, the sanitizer's allocation
 * hook counts. Header-only: include it in exactly one test program, call
 * install_counter() first, then read `allocations`. */
#ifndef PTIM_TESTS_ALLOC_COUNTER_H
#define PTIM_TESTS_ALLOC_COUNTER_H
#include <stdatomic.h>
#include <stddef.h>

static atomic_long allocations;

#if defined(__SANITIZE_ADDRESS__)
/* From the sanitizer runtime (sanitizer/allocator_interface.h, not always installed). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    atomic_fetch_add(&allocations, 1);
}
static void on_free(const volatile void *ptr)
{
    (void)ptr;
}
static void install_counter(void)
{
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
/* glibc's own entry points; defining malloc here overrides it for the whole
 * process, XNNPACK and pthreadpool included. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n)
{
    atomic_fetch_add(&allocations, 1);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t s)
{
    atomic_fetch_add(&allocations, 1);
    return __libc_calloc(n, s);
}
void *realloc(void *p, size_t n)
{
    atomic_fetch_add(&allocations, 1);
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n)
{
    atomic_fetch_add(&allocations, 1);
    return __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n)
{
    atomic_fetch_add(&allocations, 1);
    return __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n)
{
    atomic_fetch_add(&allocations, 1);
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12; /* ENOMEM */
}
static void install_counter(void)
{
}
#endif

#endif
