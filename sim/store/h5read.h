/* h5read: typed reading of any object of an HDF5 file a user hands us, for tools that compare or
 * inspect run logs generically (`rlgf diff`). Every call runs its HDF5 reads in a child process
 * (h5util_run_isolated), so a damaged or hostile file ends in an error naming the file, never in
 * a crash of the caller. Library code: errors are returned, nothing exits. */
#ifndef RLGF_H5READ_H
#define RLGF_H5READ_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

typedef enum { H5READ_FLOAT = 0, H5READ_INT = 1, H5READ_UINT = 2, H5READ_OTHER = 3 } h5read_kind_t;

#define H5READ_MAX_RANK 8

typedef struct {
    char *path; /* "/trajectories/logp" */
    h5read_kind_t kind;
    unsigned size; /* bytes per element as stored */
    int rank;      /* 0 for a scalar dataset */
    uint64_t dims[H5READ_MAX_RANK];
    uint64_t n;    /* number of elements */
    int readable;  /* 0 for types h5read_array cannot return (variable length, references) */
    char type[48]; /* "float32", "int64", "uint8", "string[12]", ... */
} h5read_dataset_t;

typedef struct {
    char *object; /* "/" for the root group */
    char *name;
    char *value; /* strings as stored (NUL padding dropped); numbers printed exactly (%lld, %.17g;
                    %.9g for float32); arrays as comma-separated elements */
} h5read_attr_t;

typedef struct {
    h5read_dataset_t *datasets;
    size_t n_datasets;
    h5read_attr_t *attrs;
    size_t n_attrs;
} h5read_listing_t;

/* Every dataset and every attribute of every group and dataset, groups walked recursively in
 * creation order (name order where a group does not track it), leaving out the object at `skip`
 * and everything below it (e.g. "/timing"; NULL skips nothing). Links other than hard links are
 * not followed. */
int h5read_list(const char *path, const char *skip, h5read_listing_t *out, err_t *err);
void h5read_listing_free(h5read_listing_t *l);

typedef struct {
    h5read_kind_t kind;
    unsigned size; /* bytes per element of data: 4 (float) or 8 (double) for floats (other float
                      widths are converted to double), 8 (int64_t / uint64_t) for integers, the
                      stored size for H5READ_OTHER (raw bytes) */
    uint64_t n;
    void *data;
} h5read_array_t;

/* Every element of `dataset` (e.g. "/trajectories/logp"), row-major. */
int h5read_array(const char *path, const char *dataset, h5read_array_t *out, err_t *err);
void h5read_array_free(h5read_array_t *a);

#endif
