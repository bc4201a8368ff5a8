#ifndef LEARNEDLOSS_CHDF5_SHIM_H
#define LEARNEDLOSS_CHDF5_SHIM_H

#include <hdf5.h>

// HDF5's property lists, native types and file flags are macros that call
// H5open() or read a global id; Swift cannot import them, so each one used is a function.
#define LL_H5_CONSTANT(type, name) \
    static inline type ll_##name(void) __attribute__((swift_name("getter:" #name "()"))); \
    static inline type ll_##name(void) { return name; }

LL_H5_CONSTANT(hid_t, H5P_DEFAULT)
LL_H5_CONSTANT(hid_t, H5P_FILE_ACCESS)
LL_H5_CONSTANT(hid_t, H5P_DATASET_CREATE)
LL_H5_CONSTANT(hid_t, H5P_DATASET_ACCESS)
LL_H5_CONSTANT(hid_t, H5P_GROUP_CREATE)
LL_H5_CONSTANT(hid_t, H5P_FILE_CREATE)
LL_H5_CONSTANT(hid_t, H5E_DEFAULT)
LL_H5_CONSTANT(hid_t, H5T_NATIVE_FLOAT)
LL_H5_CONSTANT(hid_t, H5T_NATIVE_DOUBLE)
LL_H5_CONSTANT(hid_t, H5T_NATIVE_INT64)
LL_H5_CONSTANT(hid_t, H5T_NATIVE_UINT8)
LL_H5_CONSTANT(hid_t, H5T_C_S1)
LL_H5_CONSTANT(unsigned, H5F_ACC_TRUNC)
LL_H5_CONSTANT(unsigned, H5F_ACC_EXCL)
LL_H5_CONSTANT(unsigned, H5F_ACC_RDONLY)
LL_H5_CONSTANT(unsigned, H5F_ACC_RDWR)
LL_H5_CONSTANT(size_t, H5T_VARIABLE)

#undef LL_H5_CONSTANT

#endif
