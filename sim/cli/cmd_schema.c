/* `rlgf schema`: the run log's layout, from the one table that owns it (sim/store/schema.c). */
#include <stdio.h>
#include <string.h>

#include "../store/schema.h"

static const char *const SCHEMA_HELP =
    "usage: rlgf schema                 every group, column, type and meaning of a run log (Markdown)\n"
    "       rlgf schema --check RUN.h5  exit 0 when every dataset and root attribute of RUN.h5 is in\n"
    "                                   the schema with its type; 1 (naming them) when not; 2 bad input\n";

int schema_main(int argc, char **argv) {
    if (argc == 2) {
        printf("Run log schema version %d. Codes: split 0 train, 1 validation, 2 test; who 0 learner, "
               "1 guide, 2 pi_ref; actor 0 learner, 1 guide, 2 forced.\n\n",
               SCHEMA_VERSION);
        schema_markdown(stdout);
        return 0;
    }
    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) return fputs(SCHEMA_HELP, stdout), 0;
    if (argc == 4 && !strcmp(argv[2], "--check")) {
        err_t err;
        if (schema_check(argv[3], &err) == 0) return printf("%s: every dataset and root attribute as the schema says\n", argv[3]), 0;
        fprintf(stderr, "rlgf schema: %s\n", err.msg);
        return strstr(err.msg, "not as the schema") ? 1 : 2;
    }
    fputs(SCHEMA_HELP, stderr);
    return 2;
}
