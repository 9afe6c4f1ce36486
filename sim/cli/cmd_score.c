/* `rlgf score`: its options, help and exit codes; reading and scoring are analysis/score.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analysis/score.h"
#include "../base/err.h"

static const char *const SCORE_HELP =
    "usage: rlgf score --hyp H.txt --refs R.txt [--metric NAME ...] [--per-line] [--concepts C.txt]\n"
    "\n"
    "Scores hypotheses against references with rlgf's metrics (envs/metrics.h has each definition\n"
    "and its source), on token ids, so the numbers can be compared with another implementation.\n"
    "\n"
    "  --hyp H.txt       line i = hypothesis i: token ids (non-negative integers) separated by\n"
    "                    spaces; an empty line is an empty hypothesis\n"
    "  --refs R.txt      line i = the references of hypothesis i, separated by '|' (an empty line:\n"
    "                    no reference, every metric but distinct/repetition scores 0)\n"
    "  --metric NAME     only these metrics (repeatable, or a comma list); default: all of\n"
    "                    bleu4 rouge1 rouge2 rougeL meteor cider_d spice_f1 distinct1 distinct2\n"
    "                    repetition\n"
    "  --per-line        one row per hypothesis (a header, then the line number and the scores)\n"
    "                    instead of the corpus scores\n"
    "  --concepts C.txt  concept token ids (white-space separated) for spice_f1; without it every\n"
    "                    token is a concept\n"
    "\n"
    "Corpus scores: bleu4 from corpus n-gram statistics, distinct-n over all hypotheses pooled, the\n"
    "others the mean of the per-hypothesis scores. Output: `name value` lines. Per line, bleu4 is\n"
    "sentence BLEU. cider_d takes its document frequencies from all lines of R.txt, so a line's\n"
    "score depends on the whole file (as in the reference implementation).\n"
    "Malformed input (missing file, a token that is not a non-negative integer, different line\n"
    "counts) is an error naming the file and line; exit code 2.\n"
    "\n"
    "example:\n"
    "  $ printf '5 6 7 8\\n9 10 13\\n' > H.txt\n"
    "  $ printf '5 6 7 8 | 5 6 9\\n9 10 11 | 12\\n' > R.txt\n"
    "  $ rlgf score --hyp H.txt --refs R.txt --metric bleu4,rougeL\n"
    "  bleu4 0.822267234\n"
    "  rougeL 0.833333333\n";

int score_main(int argc, char **argv) {
    const char *hyp = NULL, *refs = NULL, *concepts = NULL;
    int want[SCORE_N_METRICS] = {0}, any = 0, per_line = 0;
    err_t err;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return fputs(SCORE_HELP, stdout), 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *opts[] = {"--hyp", "--refs", "--concepts", "--metric"};
        const char *value = NULL;
        int which = -1;
        for (int k = 0; k < 4; k++) {
            size_t l = strlen(opts[k]);
            if (!strcmp(a, opts[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "rlgf score: option '%s' needs a value (see `rlgf score --help`)\n", a);
                    return 2;
                }
                which = k;
                value = argv[++i];
            } else if (!strncmp(a, opts[k], l) && a[l] == '=') {
                which = k;
                value = a + l + 1;
            }
        }
        if (which == 0) {
            hyp = value;
        } else if (which == 1) {
            refs = value;
        } else if (which == 2) {
            concepts = value;
        } else if (which == 3) {
            if (score_select_metrics(value, want, &err)) {
                fprintf(stderr, "rlgf score: %s\n", err.msg);
                return 2;
            }
            any = 1;
        } else if (!strcmp(a, "--per-line")) {
            per_line = 1;
        } else {
            fprintf(stderr, "rlgf score: unknown %s '%s' (see `rlgf score --help`)\n",
                    a[0] == '-' ? "option" : "argument", a);
            return 2;
        }
    }
    if (!hyp || !refs) {
        fprintf(stderr, "rlgf score: --hyp and --refs are required\n\n%s", SCORE_HELP);
        return 2;
    }
    if (!any)
        for (int m = 0; m < SCORE_N_METRICS; m++) want[m] = 1;
    score_data_t d;
    uint8_t *is_concept = NULL;
    int vocab = 0;
    if (score_read(hyp, refs, &d, &err)) {
        fprintf(stderr, "rlgf score: %s\n", err.msg);
        return 2;
    }
    if (concepts && score_read_concepts(concepts, &is_concept, &vocab, &err)) {
        fprintf(stderr, "rlgf score: %s\n", err.msg);
        score_free(&d);
        return 2;
    }
    int rc = score_print(&d, want, per_line, is_concept, vocab, stdout, &err);
    if (rc) fprintf(stderr, "rlgf score: %s\n", err.msg);
    score_free(&d);
    free(is_concept);
    return rc ? 1 : 0;
}
