#ifndef LEARNEDLOSS_CMPI_SHIM_H
#define LEARNEDLOSS_CMPI_SHIM_H

#include <mpi.h>

// OpenMPI defines its predefined handles as macros that cast the address of a
// global; Swift cannot import such macros, so each one used is a function.
#define LL_MPI_HANDLE(type, name) \
    static inline type ll_##name(void) __attribute__((swift_name("getter:" #name "()"))); \
    static inline type ll_##name(void) { return name; }

LL_MPI_HANDLE(MPI_Comm, MPI_COMM_WORLD)
LL_MPI_HANDLE(MPI_Comm, MPI_COMM_NULL)
LL_MPI_HANDLE(MPI_Info, MPI_INFO_NULL)
LL_MPI_HANDLE(MPI_Errhandler, MPI_ERRORS_RETURN)
LL_MPI_HANDLE(MPI_Datatype, MPI_FLOAT)
LL_MPI_HANDLE(MPI_Datatype, MPI_DOUBLE)
LL_MPI_HANDLE(MPI_Datatype, MPI_INT32_T)
LL_MPI_HANDLE(MPI_Datatype, MPI_INT64_T)
LL_MPI_HANDLE(MPI_Datatype, MPI_BYTE)
LL_MPI_HANDLE(MPI_Op, MPI_SUM)
LL_MPI_HANDLE(MPI_Op, MPI_MAX)
LL_MPI_HANDLE(MPI_Op, MPI_MIN)
LL_MPI_HANDLE(void *, MPI_IN_PLACE)
LL_MPI_HANDLE(MPI_Status *, MPI_STATUS_IGNORE)
LL_MPI_HANDLE(MPI_Request, MPI_REQUEST_NULL)

#undef LL_MPI_HANDLE

#endif
