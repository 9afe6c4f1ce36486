/* h5private: helpers shared by the files of sim/store only (h5log.c, h5digest.c, h5info.c,
 * h5util.c); nothing outside sim/store includes this. */
#ifndef RLGF_H5PRIVATE_H
#define RLGF_H5PRIVATE_H

#include <hdf5.h>
#include <stddef.h>

#include "h5log.h"

void h5util_quiet(void);                       /* HDF5's own error printing off */
hid_t h5util_mem_type(h5col_type_t t);         /* native memory type of a column type */
hid_t h5util_file_type(h5col_type_t t);        /* little-endian file type of a column type */
size_t h5util_elem_size(h5col_type_t t);
const char *h5util_type_name(h5col_type_t t);
int h5util_probe_writable(const char *file, err_t *err, const char *what);
int h5util_fsync_path(const char *file);
hid_t h5util_make_fapl_rw(void);               /* file access: latest format pinned to 1.8, no locking */

/* short names the store's files use for h5util.h's building blocks */
#define make_gcpl() h5util_make_cpl(H5P_GROUP_CREATE)
#define make_fcpl() h5util_make_cpl(H5P_FILE_CREATE)
#define write_attr h5util_write_attr
#define write_str_attr h5util_write_str_attr

#endif
