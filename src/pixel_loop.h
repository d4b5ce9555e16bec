/* MC_PIXEL_LOOP marks functions that loop over pixels or tiles with no
 * branch worth a fuzzer's attention. Coverage instrumentation of every
 * comparison in such loops made the receiver's fuzzer 20 times slower, so
 * fuzz builds leave them uninstrumented (and not inlined, where the
 * instrumentation of the caller would reach them). Internal. */
#ifndef MC_PIXEL_LOOP_H
#define MC_PIXEL_LOOP_H

#if defined(__clang__) && defined(MC_FUZZING)
#define MC_PIXEL_LOOP __attribute__((no_sanitize("coverage"), noinline))
#else
#define MC_PIXEL_LOOP
#endif

#endif
