// npy.h: NumPy .npy files (format versions 1.0, 2.0, 3.0).
//
// Reading accepts little-endian float64 ('<f8') and float32 ('<f4'), C or
// Fortran order, 1-D (taken as a column, shape (n, 1)) or 2-D arrays, and
// always returns a row-major double matrix.  Anything else (other dtypes,
// big-endian, >2 dimensions, malformed or truncated files) is an input error
// whose message names the file.  npy_read_ints reads integer vectors
// (labels).  Writing produces version 1.0 '<f8' C order.
#ifndef LORALAB_NPY_H
#define LORALAB_NPY_H

#include "util.h"

// Read `path` into a new row-major array *data of shape (*rows, *cols).
int npy_read(const char *path, double **data, int *rows, int *cols, lerr *e);

// Read an array of 1 to maxdim dimensions (maxdim <= 8) into a new C-order
// (row-major) double array; its shape goes to *ndim, dims[0 .. ndim).  Same
// dtypes, orders and checks as npy_read.
int npy_read_nd(const char *path, int maxdim, double **data, int *ndim, long *dims, lerr *e);

// The shape of the array in `path`, from its header alone (the data is not
// read): the checks of npy_read_nd except those of the data section.
int npy_shape(const char *path, int maxdim, int *ndim, long *dims, lerr *e);

// Read a vector of integers (class labels): a 1-D array (N,) or a column
// (N, 1) of a little-endian integer dtype ('<i8', '<i4', '<i2', '|i1' and the
// unsigned '<u8', '<u4', '<u2', '|u1'), every value within C int's range,
// into a new array *data of *n ints.  Float dtypes are refused here (and
// integer dtypes by npy_read): labels and inputs are different things.
int npy_read_ints(const char *path, int **data, int *n, lerr *e);

// Write a row-major (rows, cols) matrix to `path` atomically (tmp + rename).
int npy_write(const char *path, const double *data, int rows, int cols, lerr *e);

#endif
