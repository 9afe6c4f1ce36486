/* libFuzzer harness: `rlgf score` inputs. The bytes up to the first 0xFF are the hypothesis
 * file, the rest the references file; every metric is computed on whatever parses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../analysis/score.h"

static void put(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(d, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0; /* keep metric costs (quadratic LCS) bounded */
    const uint8_t *sep = memchr(data, 0xFF, size);
    size_t nh = sep ? (size_t)(sep - data) : size;
    char hp[64], rp[64];
    snprintf(hp, sizeof hp, "/tmp/rlgf_fuzz_h_%d", (int)getpid());
    snprintf(rp, sizeof rp, "/tmp/rlgf_fuzz_r_%d", (int)getpid());
    put(hp, data, nh);
    put(rp, sep ? sep + 1 : data, sep ? size - nh - 1 : 0);
    score_data_t d;
    err_t err;
    if (score_read(hp, rp, &d, &err) == 0) {
        int want[16];
        for (int k = 0; k < 16; k++) want[k] = 1;
        FILE *null = fopen("/dev/null", "w");
        score_print(&d, want, 1, NULL, 0, null, &err);
        score_print(&d, want, 0, NULL, 0, null, &err);
        fclose(null);
        score_free(&d);
    }
    unlink(hp);
    unlink(rp);
    return 0;
}
