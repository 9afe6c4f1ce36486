/* h5util: the few HDF5 building blocks the run log, checkpoints and exports share (internal to
 * sim/ and analysis/; everything else uses h5log.h and ckpt.h). All of them write nothing that
 * depends on time: object time tracking is off, creation order tracked. */
#ifndef RLGF_H5UTIL_H
#define RLGF_H5UTIL_H

#include <hdf5.h>

/* A file- or group-creation property list (cls H5P_FILE_CREATE / H5P_GROUP_CREATE) with time
 * tracking off and link and attribute creation order tracked and indexed; -1 on failure. */
hid_t h5util_make_cpl(hid_t cls);
/* A scalar attribute of file type ftype written from memory type mtype; 0 or -1. */
int h5util_write_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *buf);
/* Fixed-length UTF-8 string attribute of exactly strlen(s) bytes (1 for ""), NULLPAD. */
int h5util_write_str_attr(hid_t obj, const char *name, const char *s);

#endif
