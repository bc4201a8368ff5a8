#ifndef LEARNEDLOSS_CDNNL_SHIM_H
#define LEARNEDLOSS_CDNNL_SHIM_H

#if !__has_include(<oneapi/dnnl/dnnl.h>)
#error "oneDNN is missing: install Debian's libdnnl-dev (apt-get install libdnnl-dev, or bash scripts/install-system-packages.sh)"
#endif
#include <oneapi/dnnl/dnnl.h>

// oneDNN defines the "library allocates" memory handle as a cast of -1, a macro Swift cannot import.
static inline void *ll_DNNL_MEMORY_ALLOCATE(void) __attribute__((swift_name("getter:DNNL_MEMORY_ALLOCATE()")));
static inline void *ll_DNNL_MEMORY_ALLOCATE(void) { return DNNL_MEMORY_ALLOCATE; }

// Debian's oneDNN runs its kernels on GNU OpenMP; these set and read its threads per rank.
// Declared here rather than through <omp.h>, which sits in the compiler's private include folder.
void omp_set_num_threads(int threads);
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);

// GCC compiles `#pragma omp parallel` into this libgomp call. Swift's own loops call it too, so
// they run on the same threads as oneDNN's kernels instead of a second pool that would compete
// with OpenMP's spinning workers for the cores.
void GOMP_parallel(void (*body)(void *), void *context, unsigned threads, unsigned flags);

#endif
