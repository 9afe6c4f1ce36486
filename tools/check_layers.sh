#!/usr/bin/env bash
# The layering rule of ARCHITECTURE.md, checked: every #include "..." in sim/ envs/ algos/
# analysis/ must stay inside the folders its own folder may include (the ```rules block of
# ARCHITECTURE.md), and no library file (all but sim/cli) may exit, abort or print to stdout,
# except the sites still counted in tools/layers_allowlist.txt (the to-do list: a file may lose
# sites, never gain them).
# Exit 0 when the tree keeps the rules, 1 with every break listed as file:line.
set -u
cd "$(dirname "$0")/.."
rules=$(awk '/^```rules/{f=1; next} /^```/{f=0} f' ARCHITECTURE.md)
[ -n "$rules" ] || { echo "check_layers: no \`\`\`rules block in ARCHITECTURE.md"; exit 1; }
folders=$(printf '%s\n' "$rules" | cut -d: -f1)
folder_of() { # the rule folder a path lies in (the longest matching prefix)
    local p=$1 best=""
    for f in $folders; do case "$p" in "$f"/*) [ ${#f} -gt ${#best} ] && best=$f;; esac; done
    printf '%s' "$best"
}
bad=0
listed=0
for src in $(git ls-files --cached --others --exclude-standard 'sim/*.[ch]' 'envs/*.[ch]' 'algos/*.[ch]' 'analysis/*.[ch]' 2>/dev/null || ls sim/*/*.[ch] envs/*.[ch] algos/*.[ch] analysis/*.[ch]); do
    own=$(folder_of "$src")
    if [ -z "$own" ]; then echo "  $src: in no folder of ARCHITECTURE.md's rules"; bad=1; continue; fi
    allowed="$own $(printf '%s\n' "$rules" | awk -F: -v f="$own" '$1 == f {print $2}')"
    dir=$(dirname "$src")
    while IFS=: read -r line inc; do
        target=$(realpath -m --relative-to=. "$dir/$inc")
        tf=$(folder_of "$target")
        [ -z "$tf" ] && { echo "  $src:$line: includes $inc, outside every layer"; bad=1; continue; }
        case " $allowed " in *" $tf "*) ;; *) echo "  $src:$line: $own may not include $tf ($inc)"; bad=1;; esac
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$src" | sed -E 's/^([0-9]+):.*"([^"]+)".*/\1:\2/')
    if [ "$own" != "sim/cli" ]; then
        # kinds: exit (exit, abort), stdout (printf, puts, putchar, fprintf/fputs/fwrite to stdout).
        # _exit is allowed: it ends a forked child (the isolated HDF5 reader, a sweep worker).
        hits=$(perl -0777 -ne '
            my $s = $_;
            $s =~ s{/\*.*?\*/}{ my $c = $&; $c =~ s/[^\n]//g; $c }gse;
            $s =~ s{//[^\n]*}{}g;
            $s =~ s{"(?:[^"\\\n]|\\.)*"}{""}g;
            my $n = 0;
            for my $l (split /\n/, $s, -1) { $n++;
                print "$n exit $1\n" while $l =~ /(?<![A-Za-z0-9_])(exit|abort)\s*\(/g;
                print "$n stdout $1\n" while $l =~ /(?<![A-Za-z0-9_])(printf|puts|putchar|vprintf)\s*\(/g;
                print "$n stdout $1\n" if $l =~ /\b((?:v?fprintf|fputs|fputc|fwrite))\s*\([^;]*\bstdout\b/;
            }' "$src")
        for kind in exit stdout; do
            n=$(printf '%s\n' "$hits" | awk -v k=$kind '$2 == k' | grep -c . || true)
            allowed_n=$(awk -v f="$src" -v k=$kind '$1 == f && $2 == k {print $3}' tools/layers_allowlist.txt 2>/dev/null)
            allowed_n=${allowed_n:-0}
            listed=$((listed + allowed_n))
            if [ "$n" -gt "$allowed_n" ]; then
                printf '%s\n' "$hits" | awk -v k=$kind -v f="$src" '$2 == k {print "  " f ":" $1 ": " $3 " (library code returns errors; only sim/cli prints to stdout and exits)"}'
                echo "  ($src: $n $kind sites, $allowed_n allowed by tools/layers_allowlist.txt)"
                bad=1
            fi
        done
    fi
done
[ $bad -eq 0 ] && echo "check_layers: every include keeps ARCHITECTURE.md's layers; no library file exits, aborts or prints to stdout beyond the $listed sites still listed in tools/layers_allowlist.txt"
exit $bad
