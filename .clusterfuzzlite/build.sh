#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of hvsim's libFuzzer targets: the
# library with the service's $CC/$CFLAGS (sanitizers and coverage), each
# fuzz/fuzz_*.c linked with $LIB_FUZZING_ENGINE and the libraries
# statically (the runner image has none of them), seed corpora zipped
# beside each target. The hvsim fuzz targets (fuzz_pt, fuzz_pcid,
# fuzz_iommu, fuzz_time, fuzz_ring) decode
# any bytes and abort on a property violation: a failure the service
# reports is a reproducer for `hvsim fuzz`'s decoders (docs/fuzzing.md).
cd "$SRC/hvsim"
cmake -S . -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" \
      -DCMAKE_C_FLAGS="$CFLAGS" -DHVSIM_WERROR=OFF -DHVSIM_FUZZ=OFF
cmake --build "$WORK/build" --target hvsim_core -j"$(nproc)"
LIBS="-Wl,-Bstatic -lsqlite3 -lyaml -lz -Wl,-Bdynamic -lpthread -lm -ldl"
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  $CC $CFLAGS -I. -c "$src" -o "$WORK/$name.o"
  $CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$WORK/$name.o" "$WORK/build/libhvsim_core.a" $LIBS \
      -o "$OUT/$name"
done
# Seed corpora: the shipped scenarios for the YAML reader, traces for the
# trace reader; the decoders need none.
zip -qrj "$OUT/fuzz_scenario_seed_corpus.zip" scenarios/litmus scenarios/concurrent
zip -qrj "$OUT/fuzz_trace_seed_corpus.zip" traces/litmus traces/concurrent fuzz/seeds/fuzz_trace
