/* BLAKE3, one-shot, portable: see _blake3.h.
 *
 * The input is split into 1024-byte chunks; each chunk is compressed block
 * by block (64 bytes) into a chaining value, with its chunk number as the
 * counter. Chaining values are merged pairwise into parent nodes as soon as
 * a subtree is complete (the stack of the specification's section 5.1.2):
 * after chunk number n (counting from 1) is pushed, as many merges as n has
 * trailing zero bits. The last chunk is not merged eagerly: it is the
 * right edge of the tree, folded with the stack from the top, and the final
 * node (a lone chunk, or the top parent) is compressed with the ROOT flag.
 */
#include "_blake3.h"

#include <string.h>

enum { BLOCK_LEN = 64, CHUNK_LEN = 1024 };
enum { CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8 };

static const uint32_t IV[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                               0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};
/* The message words each round takes: round r uses the permutation
 * (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8) applied r times. */
static const uint8_t SCHEDULE[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1}, {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4}, {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void g(uint32_t *s, int a, int b, int c, int d, uint32_t x, uint32_t y) {
    s[a] = s[a] + s[b] + x;
    s[d] = rotr(s[d] ^ s[a], 16);
    s[c] = s[c] + s[d];
    s[b] = rotr(s[b] ^ s[c], 12);
    s[a] = s[a] + s[b] + y;
    s[d] = rotr(s[d] ^ s[a], 8);
    s[c] = s[c] + s[d];
    s[b] = rotr(s[b] ^ s[c], 7);
}

/* The compression function: out[0..7] is the new chaining value (and the
 * first 32 output bytes of a root node). */
static void compress(const uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint32_t block_len, uint64_t counter,
                     uint32_t flags, uint32_t out[8]) {
    uint32_t m[16], s[16];
    for (int i = 0; i < 16; i++)
        m[i] = load32(block + 4 * i);
    memcpy(s, cv, 8 * sizeof(uint32_t));
    memcpy(s + 8, IV, 4 * sizeof(uint32_t));
    s[12] = (uint32_t)counter;
    s[13] = (uint32_t)(counter >> 32);
    s[14] = block_len;
    s[15] = flags;
    for (int r = 0; r < 7; r++) {
        const uint8_t *w = SCHEDULE[r];
        g(s, 0, 4, 8, 12, m[w[0]], m[w[1]]);
        g(s, 1, 5, 9, 13, m[w[2]], m[w[3]]);
        g(s, 2, 6, 10, 14, m[w[4]], m[w[5]]);
        g(s, 3, 7, 11, 15, m[w[6]], m[w[7]]);
        g(s, 0, 5, 10, 15, m[w[8]], m[w[9]]);
        g(s, 1, 6, 11, 12, m[w[10]], m[w[11]]);
        g(s, 2, 7, 8, 13, m[w[12]], m[w[13]]);
        g(s, 3, 4, 9, 14, m[w[14]], m[w[15]]);
    }
    for (int i = 0; i < 8; i++)
        out[i] = s[i] ^ s[i + 8];
}

/* A node not yet compressed for the last time: what it is compressed with,
 * as a chaining value or, with ROOT, as the hash. */
typedef struct {
    uint32_t cv[8];
    uint8_t block[BLOCK_LEN];
    uint32_t block_len;
    uint64_t counter;
    uint32_t flags;
} Node;

static void node_cv(const Node *n, uint32_t out[8]) { compress(n->cv, n->block, n->block_len, n->counter, n->flags, out); }

/* Chunk number `counter` (len <= CHUNK_LEN; 0 only for the empty input):
 * every block but the last compressed, the last one left in `n`. */
static void chunk_node(const uint8_t *data, size_t len, uint64_t counter, Node *n) {
    uint32_t cv[8];
    memcpy(cv, IV, sizeof(cv));
    uint32_t start = CHUNK_START;
    while (len > BLOCK_LEN) {
        compress(cv, data, BLOCK_LEN, counter, start, cv);
        start = 0;
        data += BLOCK_LEN;
        len -= BLOCK_LEN;
    }
    memcpy(n->cv, cv, sizeof(cv));
    memset(n->block, 0, BLOCK_LEN);
    memcpy(n->block, data, len);
    n->block_len = (uint32_t)len;
    n->counter = counter;
    n->flags = start | CHUNK_END;
}

static void parent_node(const uint32_t left[8], const uint32_t right[8], Node *n) {
    memcpy(n->cv, IV, sizeof(IV));
    for (int i = 0; i < 8; i++) {
        uint32_t l = left[i], r = right[i];
        for (int b = 0; b < 4; b++) {
            n->block[4 * i + b] = (uint8_t)(l >> (8 * b));
            n->block[32 + 4 * i + b] = (uint8_t)(r >> (8 * b));
        }
    }
    n->block_len = BLOCK_LEN;
    n->counter = 0;
    n->flags = PARENT;
}

void ama_blake3(const uint8_t *data, size_t len, uint8_t out[AMA_BLAKE3_OUT_LEN]) {
    uint32_t stack[64][8]; /* one entry a level: 2^64 chunks at most */
    int depth = 0;
    uint64_t chunks = 0;
    Node n;
    while (len > CHUNK_LEN) {
        uint32_t cv[8];
        chunk_node(data, CHUNK_LEN, chunks, &n);
        node_cv(&n, cv);
        data += CHUNK_LEN;
        len -= CHUNK_LEN;
        chunks++;
        for (uint64_t total = chunks; (total & 1) == 0; total >>= 1) {
            parent_node(stack[--depth], cv, &n);
            node_cv(&n, cv);
        }
        memcpy(stack[depth++], cv, sizeof(cv));
    }
    chunk_node(data, len, chunks, &n);
    while (depth > 0) {
        uint32_t cv[8];
        node_cv(&n, cv);
        parent_node(stack[--depth], cv, &n);
    }
    uint32_t words[8];
    compress(n.cv, n.block, n.block_len, 0, n.flags | ROOT, words);
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(words[i] >> (8 * b));
}
