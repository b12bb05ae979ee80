/* pipeline/queue — a bounded FIFO of pointers joining two pipeline stages.
 *
 * Offline stages push with back-pressure (ptim_queue_push waits for room);
 * live stages push with ptim_queue_push_newest, which evicts the oldest
 * waiting item instead of waiting, so the consumer always gets the newest
 * frame. The queue never owns or frees items: evicted items are handed back
 * to the caller. Safe for any number of producers and consumers. */
#ifndef PTIM_PIPELINE_QUEUE_H
#define PTIM_PIPELINE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ptim_queue ptim_queue;

/* capacity >= 1 items. Returns NULL when out of memory. */
ptim_queue *ptim_queue_create(int capacity);
void ptim_queue_destroy(ptim_queue *q);

/* Wait for room, then append. Returns 0, or -1 when the queue was closed
 * (the item was not taken). */
int ptim_queue_push(ptim_queue *q, void *item);
/* Append without waiting; when full, the oldest item is removed and stored
 * in *evicted (else *evicted = NULL). Returns -1 when closed. */
int ptim_queue_push_newest(ptim_queue *q, void *item, void **evicted);
/* Remove the oldest item, waiting up to timeout_ms (< 0: forever).
 * Returns 1 with *item set, 0 on timeout, -1 when closed and empty. */
int ptim_queue_pop(ptim_queue *q, void **item, int timeout_ms);
/* No more pushes; pops drain what is left and then return -1. Wakes everyone. */
void ptim_queue_close(ptim_queue *q);
int ptim_queue_length(ptim_queue *q);
/* Largest length seen since creation (how much back-pressure there was). */
int ptim_queue_high_water(ptim_queue *q);

#endif
