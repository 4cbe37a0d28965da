#ifndef C_SIGHTGLASS_SHIMS_H
#define C_SIGHTGLASS_SHIMS_H
#include <stddef.h>
#include <stdint.h>

/// libc's memmem (a GNU/BSD extension Swift's Glibc module does not expose): vectorised
/// substring search, used to scan relayed stream bytes for a handful of JSON keys.
const void *sg_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// Asks the scheduler for a time slice of `slice_ns` for the calling thread (Linux 6.12+ EEVDF:
/// `sched_setattr` with `sched_runtime`; policy and nice unchanged, so its share of the CPU is
/// too). A thread with a short slice preempts one with a longer slice when it wakes. 0 on
/// success, -1 where the kernel or platform cannot (the thread keeps the default).
int sg_request_time_slice(uint64_t slice_ns);

#endif
