#!/usr/bin/env bash
# test_exports.sh LIBSITEDIFF_SO INCLUDEDIR: the shared library exports exactly the functions the
# public headers declare (src/libsitediff.map lists them; internal functions stay hidden).
set -u
LIB=$1 INC=$2
CC=${CC:-cc}
read -r -a cc_cmd <<<"$CC"
command -v "${cc_cmd[0]}" >/dev/null || { echo "skip: no C compiler ($CC)"; exit 77; }
command -v nm >/dev/null || { echo "skip: no nm (binutils)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Declared: every sd_* name followed by "(" in the preprocessed public headers (no comments).
echo '#include <sitediff/sitediff.h>' >"$T/all.c"
if ! "${cc_cmd[@]}" -E -P -I"$INC" "$T/all.c" >"$T/all.i"; then
  echo "FAIL: the public headers do not preprocess"
  exit 1
fi
grep -oE '\bsd_[A-Za-z0-9_]+[[:space:]]*\(' "$T/all.i" | tr -d ' (\t' | sort -u >"$T/declared"
nm -D --defined-only "$LIB" | awk 'NF == 3 { print $3 }' | sed 's/@.*//' | sort -u >"$T/exported"

rc=0
missing=$(comm -23 "$T/declared" "$T/exported")
extra=$(comm -13 "$T/declared" "$T/exported")
if [ -n "$missing" ]; then
  echo "FAIL: declared in include/sitediff but not exported (add to src/libsitediff.map):" $missing
  rc=1
fi
if [ -n "$extra" ]; then
  echo "FAIL: exported but not in the public headers:" $extra
  rc=1
fi
echo "$(wc -l <"$T/declared") public functions, $(wc -l <"$T/exported") exported"
exit $rc
