/* pipeline/queue: order, back-pressure, newest-wins eviction, close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "pipeline/queue.h"

static void test_fifo_order(void **state)
{
    (void)state;
    ptim_queue *q = ptim_queue_create(4);
    int v[4] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ptim_queue_push(q, &v[i]), 0);
    assert_int_equal(ptim_queue_length(q), 4);
    for (int i = 0; i < 4; i++) {
        void *it;
        assert_int_equal(ptim_queue_pop(q, &it, 0), 1);
        assert_ptr_equal(it, &v[i]);
    }
    void *it;
    assert_int_equal(ptim_queue_pop(q, &it, 10), 0); /* empty: times out */
    assert_int_equal(ptim_queue_high_water(q), 4);
    ptim_queue_destroy(q);
}

static void test_newest_wins(void **state)
{
    (void)state;
    ptim_queue *q = ptim_queue_create(2);
    int v[5] = {0, 1, 2, 3, 4};
    void *evicted;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ptim_queue_push_newest(q, &v[i], &evicted), 0);
        if (i < 2)
            assert_null(evicted);
        else
            assert_ptr_equal(evicted, &v[i - 2]); /* the oldest goes */
    }
    void *it;
    assert_int_equal(ptim_queue_pop(q, &it, 0), 1);
    assert_ptr_equal(it, &v[3]);
    assert_int_equal(ptim_queue_pop(q, &it, 0), 1);
    assert_ptr_equal(it, &v[4]);
    ptim_queue_destroy(q);
}

static void *consume_slowly(void *arg)
{
    ptim_queue *q = arg;
    intptr_t n = 0;
    void *it;
    while (ptim_queue_pop(q, &it, -1) == 1) {
        if ((intptr_t)it != n + 1)
            return (void *)-1; /* out of order */
        n++;
        usleep(200);
    }
    return (void *)n;
}

/* Back-pressure: a fast producer never loses an item and never overfills. */
static void test_backpressure_keeps_everything(void **state)
{
    (void)state;
    ptim_queue *q = ptim_queue_create(3);
    pthread_t th;
    pthread_create(&th, NULL, consume_slowly, q);
    for (intptr_t i = 1; i <= 500; i++)
        assert_int_equal(ptim_queue_push(q, (void *)i), 0);
    ptim_queue_close(q);
    void *n;
    pthread_join(th, &n);
    assert_int_equal((intptr_t)n, 500);
    assert_true(ptim_queue_high_water(q) <= 3);
    ptim_queue_destroy(q);
}

static void *push_into_full(void *arg)
{
    ptim_queue *q = arg;
    static int x;
    return (void *)(intptr_t)ptim_queue_push(q, &x); /* blocks until closed */
}

static void test_close_wakes_and_drains(void **state)
{
    (void)state;
    ptim_queue *q = ptim_queue_create(1);
    int a;
    assert_int_equal(ptim_queue_push(q, &a), 0);
    pthread_t th;
    pthread_create(&th, NULL, push_into_full, q);
    usleep(20000);
    ptim_queue_close(q);
    void *rc;
    pthread_join(th, &rc);
    assert_int_equal((intptr_t)rc, -1); /* refused, not lost silently */
    void *it;
    assert_int_equal(ptim_queue_pop(q, &it, -1), 1); /* what was queued still drains */
    assert_ptr_equal(it, &a);
    assert_int_equal(ptim_queue_pop(q, &it, -1), -1);
    void *ev;
    assert_int_equal(ptim_queue_push_newest(q, &a, &ev), -1);
    ptim_queue_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order),
        cmocka_unit_test(test_newest_wins),
        cmocka_unit_test(test_backpressure_keeps_everything),
        cmocka_unit_test(test_close_wakes_and_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
