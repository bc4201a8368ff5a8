#ifndef LEARNEDLOSS_CZLIB_SHIM_H
#define LEARNEDLOSS_CZLIB_SHIM_H

#include <zlib.h>

#endif
