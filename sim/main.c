/* rlgf: the command line. The only place that prints for the user and exits. */
#include <stdio.h>
#include <string.h>

static const char *const USAGE =
    "rlgf - a deterministic simulation testbed for RL with guided feedback\n"
    "\n"
    "usage: rlgf COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  help        this text; `rlgf COMMAND --help` explains one command\n"
    "  version     print the program version\n";

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(USAGE, stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("rlgf %s\n", RLGF_VERSION);
        return 0;
    }
    fprintf(stderr, "rlgf: unknown command '%s' (see `rlgf --help`)\n", argv[1]);
    return 2;
}
