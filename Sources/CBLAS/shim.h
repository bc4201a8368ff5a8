#ifndef LEARNEDLOSS_CBLAS_SHIM_H
#define LEARNEDLOSS_CBLAS_SHIM_H

#include <stddef.h>
#include <cblas.h>

// LAPACK's symmetric eigensolver and QR, which libopenblas exports; Debian's OpenBLAS ships no LAPACKE
// header, so the Fortran symbol is declared here, with gfortran's hidden string lengths last.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_length, size_t uplo_length);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau, double *work,
             const int *lwork, int *info);

#endif
