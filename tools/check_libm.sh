#!/usr/bin/env bash
# The source check of the determinism contract: no libm transcendental outside rlgf's own maths
# (sim/base/dmath.[ch]), because glibc's results differ in the last bit between its CPU variants and
# versions. Two independent checks:
#   1. the sources of everything linked into rlgf (sim/ envs/ algos/ analysis/): a call of exp,
#      log, pow, tanh, ... (any float/long double variant) outside comments and strings;
#   2. the binary given as $1 (default ./rlgf): it must not import any such symbol at all, which
#      also catches calls hidden in macros or added by the compiler.
# Tests may use libm as an independent oracle within tolerances; they are not checked.
# Exit 0 when clean, 1 with every offending file:line or symbol listed.
set -u
cd "$(dirname "$0")/.."
bin=${1:-./rlgf}
FUNCS='exp|expm1|exp2|exp10|log|log1p|log2|log10|logb|pow|pown|tanh|sinh|cosh|asinh|acosh|atanh|erf|erfc|lgamma|tgamma|sin|cos|tan|sincos|asin|acos|atan|atan2|cbrt|hypot'
bad=0

# 1. sources: drop /* */ and // comments and string literals, then look for NAME( not preceded by
#    an identifier character, '.' or '->' (so dm_exp( and s.log( do not count).
hits=$(for f in $(ls sim/*/*.[ch] envs/*.[ch] algos/*.[ch] analysis/*.[ch] 2>/dev/null | grep -v '^sim/base/dmath'); do
    perl -0777 -ne '
        my $src = $_;
        $src =~ s{/\*.*?\*/}{ my $c = $&; $c =~ s/[^\n]//g; $c }gse;   # block comments, keep lines
        $src =~ s{//[^\n]*}{}g;
        $src =~ s{"(?:[^"\\\n]|\\.)*"}{""}g;
        my $n = 0;
        for my $line (split /\n/, $src, -1) {
            $n++;
            print "$ARGV:$n: $1\n" while $line =~ /(?<![A-Za-z0-9_.>])((?:'"$FUNCS"')[fl]?)\s*\(/g;
        }' "$f"
done)
if [ -n "$hits" ]; then
    echo "check_libm: libm transcendental calls outside sim/base/dmath (use dm_exp, dm_log, ... from sim/base/dmath.h):"
    printf '%s\n' "$hits" | sed 's/^/  /'
    bad=1
fi

# 2. the binary's imported symbols
if [ -x "$bin" ]; then
    syms=$(nm -D --undefined-only "$bin" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' |
           grep -E "^(__)?($FUNCS)[fl]?(_finite)?$" || true)
    if [ -n "$syms" ]; then
        echo "check_libm: $bin imports libm transcendentals: $(echo $syms)"
        bad=1
    fi
else
    echo "check_libm: $bin is not built (run make first)"
    bad=1
fi
[ $bad -eq 0 ] && echo "check_libm: no libm transcendental outside sim/base/dmath (sources and $bin)"
exit $bad
