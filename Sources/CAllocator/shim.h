#ifndef LEARNEDLOSS_CALLOCATOR_SHIM_H
#define LEARNEDLOSS_CALLOCATOR_SHIM_H

// glibc's allocator tuning (mallopt); Swift's Glibc module does not include malloc.h.
#include <malloc.h>

#endif
