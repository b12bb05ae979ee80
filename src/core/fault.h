/* core/fault — configurable fault injection, compiled in only when the build
 * defines PTIM_FAULT_INJECTION (test builds; release builds configure with
 * -DPTIM_FAULT_INJECTION=OFF and every ptim_fault_hit() folds to false).
 *
 * Code that can fail in the field asks, at the place it would fail, whether a
 * fault is injected there, and then takes its real error path:
 *
 *     if (ptim_fault_hit(PTIM_FAULT_DECODE) || avcodec_send_packet(...) < 0)
 *         ... report a decode error exactly as a real one ...
 *
 * Which faults fire comes from the option `debug.faults` (see fault.c for the
 * grammar: a rate per point, or the Nth..Mth event at a point). Safe to call
 * from any thread; the hot path is one atomic increment when configured and
 * one relaxed load when not. */
#ifndef PTIM_CORE_FAULT_H
#define PTIM_CORE_FAULT_H
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum ptim_fault_point {
    PTIM_FAULT_SOURCE_OPEN,     /* opening or reopening the source fails */
    PTIM_FAULT_SOURCE_STALL,    /* the source delivers nothing for a while (live sources) */
    PTIM_FAULT_SOURCE_GONE,     /* the source disconnects mid-run (read error) */
    PTIM_FAULT_PACKET_DROP,     /* a demuxed video packet is lost */
    PTIM_FAULT_PACKET_CORRUPT,  /* a video packet's bytes are damaged before decoding */
    PTIM_FAULT_DECODE,          /* the decoder returns an error */
    PTIM_FAULT_DETECT,          /* face detection fails on a frame */
    PTIM_FAULT_LANDMARKS,       /* landmark inference fails on a face */
    PTIM_FAULT_ANALYZE_TIMEOUT, /* analysis of a frame runs past its deadline */
    PTIM_FAULT_ALLOC,           /* a pool or frame allocation fails */
    PTIM_FAULT_RENDER,          /* masking a frame fails */
    PTIM_FAULT_ENCODE,          /* the encoder or muxer write fails */
    PTIM_FAULT__COUNT
} ptim_fault_point;

/* "decode", "detect", … (the names debug.faults uses). */
const char *ptim_fault_point_name(ptim_fault_point point);

#ifdef PTIM_FAULT_INJECTION
/* True when a fault is to be injected at this event of `point`. */
bool ptim_fault_hit(ptim_fault_point point);
#else
static inline bool ptim_fault_hit(ptim_fault_point point)
{
    (void)point;
    return false;
}
#endif

/* Parse and arm a debug.faults spec ("" disarms everything); `seed` makes
 * rate-based faults reproducible. Returns -1 with a PTIM_ERR_CONFIG message on
 * a bad spec, or when the build has no fault injection and spec is not empty. */
int ptim_fault_configure(const char *spec, uint64_t seed, ptim_error *err);

/* How many faults have fired at `point` since the last configure. */
uint64_t ptim_fault_fired(ptim_fault_point point);

#endif
