/* libFuzzer harness: any bytes as a run log for `rlgf info`, `rlgf digest`, `rlgf diff` and the
 * column reader (analysis). Must end in an error naming the file, never a crash in rlgf's own
 * code. HDF5 itself is not hardened against hostile files; findings inside libhdf5 are reported
 * upstream and listed in tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../analysis/diff.h"
#include "../../sim/store/h5log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) {
        h5log_init();
        init = 1;
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/rlgf_fuzz_log_%d.h5", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    err_t err;
    char hex[65];
    h5log_digest(path, hex, &err);
    FILE *null = fopen("/dev/null", "w");
    h5log_info(path, null, &err);
    diff_opts_t o;
    diff_opts_default(&o);
    diff_runs(path, path, &o, null, &err);
    fclose(null);
    double *v;
    size_t n;
    if (h5log_read_column(path, "eval/reward_mean", &v, &n, &err) == 0) free(v);
    unlink(path);
    return 0;
}
