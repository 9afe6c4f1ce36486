# The command line: help and errors.
. tests/lib.sh
check help "$RLGF" --help
expect_fail unknown-command "unknown command 'frobnicate'" "$RLGF" frobnicate
