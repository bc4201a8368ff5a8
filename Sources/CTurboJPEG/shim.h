#ifndef LEARNEDLOSS_CTURBOJPEG_SHIM_H
#define LEARNEDLOSS_CTURBOJPEG_SHIM_H

#include <turbojpeg.h>

#endif
