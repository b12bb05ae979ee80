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
 * Which faults fire comes from the option `debug.faults`, a comma-separated
 * list of rules, each
 *
 *     POINT [@EVENTS] [=RATE] [:PARAM]       (at least one of @EVENTS, =RATE)
 *
 *   POINT   a name below (source_open, decode, detect, …) or `all`
 *   EVENTS  which times the point is reached, counted from 1 since the last
 *           configure: `N` (that one event), `N-M` (N..M inclusive), `N+`
 *           (N and every later one)
 *   RATE    probability that a covered event fails, 0..1 or a percentage
 *           ("0.05", "5%"); without @EVENTS it covers every event, without
 *           =RATE every covered event fails
 *   PARAM   a non-negative integer the site may use, e.g. how many ms a
 *           source_stall or analyze_timeout lasts (ptim_fault_param())
 *
 * Examples: "decode=0.05", "detect@10-20", "encode@100", "source_gone@50+",
 * "source_stall@30:1500", "all=0.01", "decode@100-200=50%". Several rules for
 * one point combine: an event fails when any of them says so.
 *
 * Rate-based faults are a pure function of (debug.fault_seed, point, event
 * number), so a run with the same seed and the same events fails at the same
 * events whatever the thread timing.
 *
 * Safe to call ptim_fault_hit() from any thread. Its cost: one atomic load
 * when the point is not armed; one atomic increment plus a few compares when
 * it is. ptim_fault_configure() must not run concurrently with hits (call it
 * before the pipeline's threads start; debug.faults is not live-changeable). */
#ifndef PTIM_CORE_FAULT_H
#define PTIM_CORE_FAULT_H
#include <stdbool.h>
#include <stddef.h>
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
/* The point named `name`, or -1. */
int ptim_fault_point_from_name(const char *name);

/* True when this build has fault injection compiled in. */
bool ptim_fault_compiled_in(void);

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

/* Parse and arm a debug.faults spec ("" disarms everything) and zero every
 * counter; `seed` makes rate-based faults reproducible. Returns -1 with a
 * PTIM_ERR_CONFIG message (naming the rule and why; "did you mean …" for a
 * misspelt point) on a bad spec, or when the build has no fault injection and
 * spec is not empty. On failure the previous arming is left unchanged. */
int ptim_fault_configure(const char *spec, uint64_t seed, ptim_error *err);

/* Check a spec without arming anything (for `config check`). Same errors. */
int ptim_fault_validate(const char *spec, ptim_error *err);

/* How many faults have fired at `point` since the last configure. */
uint64_t ptim_fault_fired(ptim_fault_point point);
/* How many times `point` was reached while armed since the last configure. */
uint64_t ptim_fault_events(ptim_fault_point point);
/* True when some rule targets `point`; any point at all for PTIM_FAULT__COUNT. */
bool ptim_fault_armed(ptim_fault_point point);
/* The :PARAM of the rules for `point` (the last one given), or `def`. */
uint64_t ptim_fault_param(ptim_fault_point point, uint64_t def);

/* Writes the armed points' counters as one JSON object
 * {"decode":{"events":N,"fired":M},…} into buf (NUL-terminated, truncated
 * to size); returns the length it needed, as snprintf does. */
size_t ptim_fault_stats_json(char *buf, size_t size);

#endif
