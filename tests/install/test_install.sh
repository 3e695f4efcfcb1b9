#!/usr/bin/env bash
# test_install.sh BUILDDIR SRCDIR MESON...: `meson install --destdir` into a scratch tree, then a
# program outside the tree (consumer.c) built through the installed sitediff.pc, once against
# libsitediff.so and once against libsitediff.a, compares the sample pair with the public API.
# Skips (77) only when there is no C compiler or no pkg-config. CC and CONSUMER_CFLAGS (the
# build's sanitizers) come from meson.
set -u
BUILD=$1 SRC=$2
shift 2
CC=${CC:-cc}
read -r -a cc_cmd <<<"$CC"
read -r -a extra <<<"${CONSUMER_CFLAGS:-}"
command -v "${cc_cmd[0]}" >/dev/null || { echo "skip: no C compiler ($CC)"; exit 77; }
command -v pkg-config >/dev/null || { echo "skip: no pkg-config"; exit 77; }
. "$SRC/tests/e2e/lib.sh"

D=$T/dest
if ! "$@" install -C "$BUILD" --destdir "$D" --no-rebuild --quiet >"$T/install.log" 2>&1; then
  cat "$T/install.log" >&2
  bad "meson install --destdir failed"
  finish
  exit
fi

# What was installed: the command, both libraries with their version links, the headers, the
# pkg-config file and the man page.
pc=$(find "$D" -name sitediff.pc -path '*/pkgconfig/*' | head -1)
[ -n "$pc" ] || { bad "no sitediff.pc under $D"; finish; exit; }
pcdir=$(dirname "$pc")
export PKG_CONFIG_PATH=$pcdir
prefix=$(pkg-config --variable=prefix sitediff)
pkgc() { pkg-config --define-variable=prefix="$D$prefix" "$@" sitediff; }
libdir=$(pkgc --variable=libdir) incdir=$(pkgc --variable=includedir)
version=$(pkgc --modversion)
for f in "$D$prefix/bin/sitediff" "$incdir/sitediff/sitediff.h" "$incdir/sitediff/error.h" \
  "$incdir/sitediff/options.h" "$libdir/libsitediff.a" "$libdir/libsitediff.so" \
  "$libdir/libsitediff.so.$version" "$D$prefix/share/man/man1/sitediff.1"; do
  if [ -e "$f" ]; then ok; else bad "not installed: ${f#"$D"}"; fi
done
soname=$(readelf -d "$libdir/libsitediff.so" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
if [ -n "$soname" ] && [ -e "$libdir/$soname" ]; then ok; else bad "SONAME '$soname' is not installed in ${libdir#"$D"}"; fi
if cmp -s "$D$prefix/share/man/man1/sitediff.1" "$SRC/doc/sitediff.1"; then ok; else bad "installed man page differs from doc/sitediff.1"; fi

# The flags point into the DESTDIR tree (not at a sitediff installed on this machine).
cflags=$(pkgc --cflags) libs=$(pkgc --libs) slibs=$(pkgc --static --libs)
echo "pkg-config --cflags: $cflags"
echo "pkg-config --libs: $libs"
echo "pkg-config --static --libs: $slibs"
case " $cflags " in *" -I$incdir "*) ok ;; *) bad "--cflags lacks -I$incdir: $cflags" ;; esac
case " $libs " in *" -L$libdir "*"-lsitediff "*) ok ;; *) bad "--libs lacks -L$libdir -lsitediff: $libs" ;; esac
for l in -lgdal -lpng16 -ltiff -lfftw3f -lfftw3f_omp -ljansson -fopenmp -lm; do
  case " $slibs " in *" $l "*) ok ;; *) bad "--static --libs lacks $l" ;; esac
done

# The public headers alone compile in a strict C99 program, and as C++ where there is a compiler.
printf '#include <sitediff/sitediff.h>\nint main(void) { sd_compare_options o; sd_compare_options_init(&o); return o.quiet; }\n' \
  >"$T/hdr.c"
for h in sitediff error options; do printf '#include <sitediff/%s.h>\n' "$h" >"$T/only_$h.c"; done
if "${cc_cmd[@]}" -std=c99 -Wall -Wextra -pedantic-errors -Werror -I"$incdir" -c "$T/hdr.c" -o "$T/hdr.o" \
  2>"$T/hdr.err"; then ok; else bad "<sitediff/sitediff.h> alone does not compile: $(cat "$T/hdr.err")"; fi
for h in sitediff error options; do
  if "${cc_cmd[@]}" -std=c99 -Wall -Wextra -pedantic-errors -Werror -I"$incdir" -c "$T/only_$h.c" -o "$T/o.o" \
    2>"$T/hdr.err"; then ok; else bad "<sitediff/$h.h> alone does not compile: $(cat "$T/hdr.err")"; fi
done
if command -v c++ >/dev/null; then
  if c++ -Wall -Wextra -Werror -I"$incdir" -x c++ -c "$T/hdr.c" -o "$T/hdr.o" 2>"$T/hdr.err"; then ok
  else bad "<sitediff/sitediff.h> does not compile as C++: $(cat "$T/hdr.err")"; fi
fi

# objects_in, changed_in REPORT: objects.count and change.changed_pixels of a report.json
objects_in() { awk '/^  "objects": \{/ { f = 1; next } f && /"count":/ { gsub(/[^0-9]/, ""); print; exit }' "$1"; }
changed_in() { awk '/"changed_pixels":/ { gsub(/[^0-9]/, ""); print; exit }' "$1"; }

# run_consumer KIND EXE: compares the sample pair and checks what it printed against report.json
run_consumer() {
  local kind=$1 exe=$2 out=$T/out-$1
  LD_LIBRARY_PATH=$libdir "$exe" "$SRC/samples/before.tif" "$SRC/samples/after.tif" "$out" >"$T/$kind.txt" 2>"$T/$kind.err"
  local rc=$?
  if [ "$rc" -ne 0 ]; then bad "$kind consumer exited $rc: $(cat "$T/$kind.err")"; return; fi
  ok
  for f in report.json change_mask.tif; do
    if [ -s "$out/$f" ]; then ok; else bad "$kind consumer: no $f"; fi
  done
  [ -s "$out/report.json" ] || return
  local n c
  n=$(sed -n 's/^objects //p' "$T/$kind.txt") c=$(sed -n 's/^changed_pixels //p' "$T/$kind.txt")
  if [ -n "$n" ] && [ "$n" = "$(objects_in "$out/report.json")" ]; then ok
  else bad "$kind consumer printed objects '$n', report.json says '$(objects_in "$out/report.json")'"; fi
  if [ -n "$c" ] && [ "$c" = "$(changed_in "$out/report.json")" ]; then ok
  else bad "$kind consumer printed changed_pixels '$c', report.json says '$(changed_in "$out/report.json")'"; fi
  if [ "${n:-0}" -gt 0 ]; then ok; else bad "$kind consumer found no objects in the sample pair"; fi
  echo "$kind: $(tr '\n' ' ' <"$T/$kind.txt")"
}

# Shared: -lsitediff finds libsitediff.so, which the program then loads from DESTDIR.
read -r -a cflags_a <<<"$cflags"
read -r -a libs_a <<<"$libs"
if "${cc_cmd[@]}" "${extra[@]}" -Wall -Wextra -Werror "$SRC/tests/install/consumer.c" -o "$T/consumer-shared" \
  "${cflags_a[@]}" "${libs_a[@]}" 2>"$T/cc.err"; then
  ok
  if LD_LIBRARY_PATH=$libdir ldd "$T/consumer-shared" | grep -q "libsitediff.so.* => $libdir/"; then ok
  else bad "the shared consumer does not load libsitediff from $libdir: $(LD_LIBRARY_PATH=$libdir ldd "$T/consumer-shared" | grep sitediff)"; fi
  run_consumer shared "$T/consumer-shared"
  # a failing call reports through sd_error and the exit-code mapping
  LD_LIBRARY_PATH=$libdir "$T/consumer-shared" "$T/missing.tif" "$SRC/samples/after.tif" "$T/out-bad" \
    >/dev/null 2>"$T/bad.err"
  rc=$?
  if [ "$rc" -eq 1 ] && grep -q "missing.tif" "$T/bad.err"; then ok
  else bad "a missing input: exit $rc, message '$(cat "$T/bad.err")' (expected 1, naming the file)"; fi
else
  bad "building the consumer against libsitediff.so failed: $(cat "$T/cc.err")"
fi

# Static: --static adds the private requirements; -l:libsitediff.a takes the archive although the
# shared library sits beside it (the system libraries stay shared).
read -r -a slibs_a <<<"${slibs//-lsitediff/-l:libsitediff.a}"
if "${cc_cmd[@]}" "${extra[@]}" -Wall -Wextra -Werror "$SRC/tests/install/consumer.c" -o "$T/consumer-static" \
  "${cflags_a[@]}" "${slibs_a[@]}" 2>"$T/cc.err"; then
  ok
  if readelf -d "$T/consumer-static" | grep -q 'NEEDED.*libsitediff'; then bad "the static consumer needs libsitediff.so"
  else ok; fi
  run_consumer static "$T/consumer-static"
else
  bad "building the consumer against libsitediff.a failed: $(cat "$T/cc.err")"
fi

finish
