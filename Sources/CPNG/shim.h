#ifndef LEARNEDLOSS_CPNG_SHIM_H
#define LEARNEDLOSS_CPNG_SHIM_H

#include <png.h>

#endif
