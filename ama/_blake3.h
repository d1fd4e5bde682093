/* BLAKE3 of a buffer in memory, portable C (no SIMD, no threads): what
 * the compiled add path (ama/_speedups.c, store_new) hashes small files
 * with, outside the GIL. Larger files are hashed by the blake3 package
 * (SIMD, all cores). Written from the BLAKE3 specification
 * (https://github.com/BLAKE3-team/BLAKE3-specs); tests/test_core_blake3.py
 * checks it against the blake3 package on every length up to a few chunks
 * and on random longer inputs. */
#ifndef AMA_BLAKE3_H
#define AMA_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define AMA_BLAKE3_OUT_LEN 32

/* out = BLAKE3(data[0:len]), the 32-byte default-length hash. */
void ama_blake3(const uint8_t *data, size_t len, uint8_t out[AMA_BLAKE3_OUT_LEN]);

#endif
