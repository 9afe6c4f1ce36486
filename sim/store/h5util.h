/* h5util: the few HDF5 building blocks the run log, checkpoints and exports share (internal to
 * sim/ and analysis/; everything else uses h5log.h and ckpt.h). All of them write nothing that
 * depends on time: object time tracking is off, creation order tracked. */
#ifndef RLGF_H5UTIL_H
#define RLGF_H5UTIL_H

#include <hdf5.h>
#include <stdio.h>

#include "../base/err.h"

/* A file- or group-creation property list (cls H5P_FILE_CREATE / H5P_GROUP_CREATE) with time
 * tracking off and link and attribute creation order tracked and indexed; -1 on failure. */
hid_t h5util_make_cpl(hid_t cls);
/* A scalar attribute of file type ftype written from memory type mtype; 0 or -1. */
int h5util_write_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *buf);
/* Fixed-length UTF-8 string attribute of exactly strlen(s) bytes (1 for ""), NULLPAD. */
int h5util_write_str_attr(hid_t obj, const char *name, const char *s);
/* A contiguous dataset `name` in loc holding buf (dims[rank]; rank 0: a scalar) of file type
 * ftype from memory type mtype, with time tracking off and attributes in creation order. Returns
 * it open (for attributes; the caller closes it), or -1. */
hid_t h5util_write_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                           const void *buf);

/* Read-only open of a user's file with checks that name it and what is wrong (missing, a
 * directory, no HDF5 signature, damaged); file locking off so a running run's partial file opens.
 * Call it only inside h5util_run_isolated. */
hid_t h5util_open_ro(const char *path, err_t *err);

/* Runs fn(ctx, out, err) in a child process: HDF5 1.10 can crash parsing a hostile or damaged
 * file, and every read of a file a user hands us goes through here. What fn writes to its `out`
 * arrives on `out`; its error message comes back in err; a crash becomes an error naming path. */
typedef int (*h5util_isolated_fn)(const void *ctx, FILE *out, err_t *err);
int h5util_run_isolated(const char *path, h5util_isolated_fn fn, const void *ctx, FILE *out, err_t *err);
#endif
