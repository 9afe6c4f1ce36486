# rlgf export-minari: the Minari layout, one episode per trajectory, tokens as actions.
. tests/lib.sh
check train $RLGF train configs/imdb_small.ini cache_dir=$TMP/cache out=$TMP/run.h5 --quiet
check export $RLGF export-minari $TMP/run.h5 $TMP/mn
n=$($RLGF info $TMP/run.h5 | sed -n 's|^ */trajectories/length *(\([0-9]*\)).*|\1|p')
e=$(h5dump -a /total_episodes $TMP/mn/data/main_data.hdf5 | sed -n 's/^ *(0): \([0-9]*\)/\1/p')
echo "   $n trajectories, $e episodes"
[ -n "$n" ] && [ "$n" = "$e" ] && ok one-episode-per-trajectory || fail one-episode-per-trajectory "$n vs $e"
grep -q '"total_episodes": '"$n" $TMP/mn/data/metadata.json && ok metadata-json || fail metadata-json "$(head -5 $TMP/mn/data/metadata.json)"
a=$(h5dump -d /episode_0/actions $TMP/mn/data/main_data.hdf5 | grep -A3 "DATA {" | tail -n +2 | tr -d ' \n' | sed 's/(0)://; s/}.*//')
t=$(h5dump -d /trajectories/token -s 0 -c 8 $TMP/run.h5 | grep -A3 "DATA {" | tail -n +2 | tr -d ' \n' | sed 's/(0)://; s/}.*//')
[ -n "$a" ] && [ "$a" = "$t" ] && ok actions-are-tokens || fail actions-are-tokens "'$a' vs '$t'"
check export-validation $RLGF export-minari $TMP/run.h5 $TMP/mv --split validation
ev=$(h5dump -a /total_episodes $TMP/mv/data/main_data.hdf5 | sed -n 's/^ *(0): \([0-9]*\)/\1/p')
[ -n "$ev" ] && [ "$ev" -gt 0 ] && [ "$ev" -lt "$n" ] && ok split-filter || fail split-filter "$ev"
echo junk > $TMP/junk.h5
expect_fail export-garbage "junk.h5" $RLGF export-minari $TMP/junk.h5 $TMP/mj
expect_fail export-bad-split "expected train, validation or test" $RLGF export-minari $TMP/run.h5 $TMP/mx --split dev
