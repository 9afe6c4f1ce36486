/* libFuzzer harness: any bytes as an INI config file, then key=value overrides from its lines.
 * Must never crash, leak or read out of bounds; every failure must come back as an error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sim/base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/rlgf_fuzz_cfg_%d.ini", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    config_t c;
    err_t err;
    cfg_defaults(&c);
    if (cfg_load_file(&c, path, &err) == 0 && cfg_validate(&c, &err) == 0) {
        char *t = cfg_to_text(&c);
        free(t);
    }
    /* the same bytes as one command-line override */
    char *kv = malloc(size + 1);
    memcpy(kv, data, size);
    kv[size] = 0;
    char *eq = strchr(kv, '=');
    if (eq) {
        *eq = 0;
        cfg_defaults(&c);
        cfg_set(&c, kv, eq + 1, "command line", &err);
    }
    free(kv);
    unlink(path);
    return 0;
}
