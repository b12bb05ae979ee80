/* pipeline/queue — ring buffer under one mutex with two condition variables.
 * Frames move at most a few hundred times a second, so a lock per item costs
 * nothing measurable and keeps the code obviously right. */
#include "pipeline/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"

struct ptim_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    int capacity, head, count, high_water;
    bool closed;
    void *items[];
};

ptim_queue *ptim_queue_create(int capacity)
{
    if (capacity < 1)
        capacity = 1;
    ptim_queue *q = calloc(1, sizeof *q + sizeof(void *) * (size_t)capacity);
    if (!q)
        return NULL;
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    ptim_cond_init_monotonic(&q->not_empty);
    ptim_cond_init_monotonic(&q->not_full);
    return q;
}

void ptim_queue_destroy(ptim_queue *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q);
}

static void append(ptim_queue *q, void *item)
{
    q->items[(q->head + q->count) % q->capacity] = item;
    q->count++;
    if (q->count > q->high_water)
        q->high_water = q->count;
    pthread_cond_signal(&q->not_empty);
}

int ptim_queue_push(ptim_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->count == q->capacity)
        pthread_cond_wait(&q->not_full, &q->lock);
    int rc = -1;
    if (!q->closed) {
        append(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int ptim_queue_push_newest(ptim_queue *q, void *item, void **evicted)
{
    *evicted = NULL;
    pthread_mutex_lock(&q->lock);
    int rc = -1;
    if (!q->closed) {
        if (q->count == q->capacity) {
            *evicted = q->items[q->head];
            q->head = (q->head + 1) % q->capacity;
            q->count--;
        }
        append(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int ptim_queue_pop(ptim_queue *q, void **item, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms >= 0) {
        deadline = ptim_deadline_after_ms(timeout_ms);
    }
    pthread_mutex_lock(&q->lock);
    int rc = 0;
    while (!q->count && !q->closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->not_empty, &q->lock);
        } else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    if (q->count) {
        *item = q->items[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_cond_signal(&q->not_full);
        rc = 1;
    } else if (q->closed) {
        rc = -1;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void ptim_queue_close(ptim_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

int ptim_queue_length(ptim_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int ptim_queue_high_water(ptim_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int n = q->high_water;
    pthread_mutex_unlock(&q->lock);
    return n;
}
