#ifndef LEARNEDLOSS_CBLAS_SHIM_H
#define LEARNEDLOSS_CBLAS_SHIM_H

#include <cblas.h>

#endif
