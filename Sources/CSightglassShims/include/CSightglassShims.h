#ifndef C_SIGHTGLASS_SHIMS_H
#define C_SIGHTGLASS_SHIMS_H
#include <stddef.h>

/// libc's memmem (a GNU/BSD extension Swift's Glibc module does not expose): vectorised
/// substring search, used to scan relayed stream bytes for a handful of JSON keys.
const void *sg_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
