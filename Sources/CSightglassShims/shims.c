#define _GNU_SOURCE
#include <string.h>
#include "CSightglassShims.h"

const void *sg_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}

#if defined(__linux__)
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct sched_attr (include/uapi/linux/sched/types.h), version 1 (48 bytes). */
struct sg_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};
#endif

int sg_request_time_slice(uint64_t slice_ns) {
#if defined(__linux__) && defined(SYS_sched_setattr)
    if (slice_ns == 0) return 0;
    errno = 0;
    int nice_value = getpriority(PRIO_PROCESS, 0); /* Linux keeps nice per thread; 0 is the caller */
    if (errno != 0) return -1;
    struct sg_sched_attr attr = {0};
    attr.size = sizeof(attr);
    attr.sched_policy = 0; /* SCHED_OTHER: same policy, same nice; only the requested slice changes */
    attr.sched_nice = nice_value;
    attr.sched_runtime = slice_ns;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
#else
    (void)slice_ns;
    return -1;
#endif
}
