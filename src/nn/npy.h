/* nn/npy — NumPy .npy files of float32 (little-endian, C order), read and
 * written by our own small code, so model numbers can be compared with
 * another runtime. */
#ifndef PTIM_NN_NPY_H
#define PTIM_NN_NPY_H

#include <stddef.h>

#include "core/error.h"
#include "nn/nn.h"

/* Writes `count` floats with shape dims[0..rank) to `path` (format 1.0). */
int nn_npy_write(const char *path, const float *data, int rank, const int *dims, ptim_error *err);

/* Reads a float32 (or float64, converted) array. On success *data is newly
 * allocated (free() it), *rank and dims[] hold the shape (rank ≤ NN_MAX_RANK;
 * more leading unit dimensions are dropped) and *count the element count. */
int nn_npy_read(const char *path, float **data, int *rank, int dims[NN_MAX_RANK], size_t *count,
                ptim_error *err);

#endif
