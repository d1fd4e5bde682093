/* The compiled core of ama's change detection (docs/change-detection.md).
 *
 * Works on the bytes of a version 3 index (docs/index-format.md) in place:
 * nothing is built per entry except for the few entries that need
 * attention. Its pure-Python twin with the same signatures is
 * ama/_purecore.py; ama/policy.py chooses between them.
 *
 *   check(data, root, since_ns, threads) -> [(path, state, position), ...]
 *       lstat every entry not marked skip-worktree, in index order, relative
 *       to per-directory fds opened component by component with O_NOFOLLOW
 *       (a symlink is never followed out of the work tree), and compare it
 *       with the entry including the racy rule. Only entries that are not
 *       CLEAN are returned, with their position in the index, in index
 *       order. `threads` threads, run with the GIL released, take the
 *       entries in chunks of CHUNK as they free up: on a busy machine a
 *       thread that gets less CPU than the others takes fewer chunks,
 *       where fixed shares left the others waiting for its last ones.
 *   check_start(data, root, since_ns, threads) -> handle
 *   check_finish(handle) -> [(path, state, position), ...]
 *       the same check, its threads but the caller's (at least one)
 *       started at once and left to run while the caller goes on with
 *       Python; check_finish makes the caller's thread the last one, takes
 *       the chunks left, waits for the others and returns what check would
 *       have (raises what it would have raised), once. A handle dropped
 *       unfinished waits for its threads.
 *   walk(data, root, cache=b"", cutoff_ns=0)
 *           -> ([untracked file, ...], [untracked directory, ...], records, hits)
 *       names in the work tree that the index does not track; a directory
 *       holding no tracked path is returned without being read. With a
 *       cutoff, directories are looked up in `cache` (records of the
 *       directory cache, ama/dircache.py): one whose stat is unchanged is
 *       not read, its recorded untracked names are listed and only its
 *       children holding tracked paths are entered. `records` are those to
 *       cache now: every directory entered whose mtime and ctime are older
 *       than the cutoff; `hits` counts the directories not read.
 *
 *   store_new(root, objects, paths, max_size, threads) -> [result, ...]
 *       the bulk of `ama add` (ama/staging.py): files not yet staged, in
 *       the hardlink link mode. Each is opened (O_NOFOLLOW), fstat'd, read
 *       whole if it is a regular file of at most max_size bytes, hashed
 *       with BLAKE3 (_blake3.c), fstat'd again (unchanged while read?),
 *       linked as objects/<2 hex>/<62 hex> (the fan-out directories exist),
 *       the link lstat'd (the inode we hashed?) and fstat'd a last time:
 *       that snapshot is what the index records. Threads take the paths in
 *       chunks, the GIL released. A result is (digest, stat record, size,
 *       present): the 32-byte digest, the index's 48-byte stat record, the
 *       size and whether the object was there already (EEXIST); or FALLBACK: this
 *       file takes the Python path (store_file), which redoes it and says
 *       in its own words what is wrong; or CHANGED: the file changed after
 *       it was linked (the new link is removed again).
 *
 * States are those of ama/index.py plus MISSING.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "_blake3.h"

#define CORE_VERSION 5

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the index is little-endian; this core reads it in place"
#endif

enum { CLEAN = 0, RACY = 1, TOUCHED = 2, CHANGED = 3, REPLACED = 4, NOT_FILE = 5, MISSING = 6 };

#define HEADER_SIZE 48
#define STAT_SIZE 48
#define DIGEST_SIZE 32
#define TRAILER_SIZE 32
#define SKIP_WORKTREE 1u
#define MAX_DEPTH 512
#define CHUNK 512 /* entries a check thread takes at a time */

typedef struct {
    const char *base;    /* the index bytes */
    Py_ssize_t count;
    /* count + 1 offsets into base: path i (NUL-terminated, in index order)
       starts at offs[i] and ends before offs[i + 1] - 1 (8 bytes an entry,
       where a pointer and a length took 16) */
    size_t *offs;
} Index;

static inline const char *ipath(const Index *ix, Py_ssize_t i) { return ix->base + ix->offs[i]; }
static inline size_t ilen(const Index *ix, Py_ssize_t i) { return ix->offs[i + 1] - ix->offs[i] - 1; }

typedef struct {
    uint64_t size;
    int64_t mtime, ctime;
    uint64_t ino, dev;
    uint32_t mode, flags;
} Stat;

static void read_stat(const Index *ix, Py_ssize_t i, Stat *s) {
    const char *p = ix->base + HEADER_SIZE + i * STAT_SIZE;
    memcpy(&s->size, p, 8);
    memcpy(&s->mtime, p + 8, 8);
    memcpy(&s->ctime, p + 16, 8);
    memcpy(&s->ino, p + 24, 8);
    memcpy(&s->dev, p + 32, 8);
    memcpy(&s->mode, p + 40, 4);
    memcpy(&s->flags, p + 44, 4);
}

/* Locate the path table; 0, or -1 with a Python exception set (and
 * nothing for index_close to free). */
static int index_open(Index *ix, const char *data, Py_ssize_t len) {
    uint32_t version, count;
    memset(ix, 0, sizeof(*ix));
    if (len < HEADER_SIZE + TRAILER_SIZE || memcmp(data, "AMAINDEX", 8) != 0) {
        PyErr_SetString(PyExc_ValueError, "not an ama index");
        return -1;
    }
    memcpy(&version, data + 8, 4);
    memcpy(&count, data + 12, 4);
    if (version != 3) {
        PyErr_SetString(PyExc_ValueError, "not a version 3 index");
        return -1;
    }
    Py_ssize_t names = HEADER_SIZE + (Py_ssize_t)count * (STAT_SIZE + DIGEST_SIZE);
    Py_ssize_t end = len - TRAILER_SIZE;
    if (names > end) {
        PyErr_SetString(PyExc_ValueError, "index truncated");
        return -1;
    }
    ix->base = data;
    ix->count = count;
    ix->offs = PyMem_RawMalloc(sizeof(size_t) * ((size_t)count + 1));
    if (!ix->offs) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t at = names;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)count; i++) {
        const char *nul = at < end ? memchr(data + at, '\0', end - at) : NULL;
        if (!nul) {
            PyMem_RawFree(ix->offs);
            ix->offs = NULL;
            PyErr_SetString(PyExc_ValueError, "index path table truncated");
            return -1;
        }
        ix->offs[i] = at;
        at = nul - data + 1;
    }
    ix->offs[count] = at;
    if (at != end) {
        PyMem_RawFree(ix->offs);
        ix->offs = NULL;
        PyErr_SetString(PyExc_ValueError, "index entry count mismatch");
        return -1;
    }
    return 0;
}

static void index_close(Index *ix) {
    PyMem_RawFree(ix->offs);
}

/* -- check ------------------------------------------------------------------ */

typedef struct {
    Py_ssize_t index;
    int state;
} Exception;

typedef struct {
    const Index *ix;
    int root_fd;
    int64_t since;
    Py_ssize_t *next; /* the first entry no thread has taken yet, shared */
    Exception *out;   /* in index order */
    Py_ssize_t n, cap;
    int failed; /* out of memory */
} Job;

static void push(Job *job, Py_ssize_t i, int state) {
    if (job->n == job->cap) {
        Py_ssize_t cap = job->cap ? job->cap * 2 : 64;
        Exception *more = realloc(job->out, sizeof(Exception) * cap);
        if (!more) {
            job->failed = 1;
            return;
        }
        job->out = more;
        job->cap = cap;
    }
    job->out[job->n].index = i;
    job->out[job->n].state = state;
    job->n++;
}

static int compare(const Stat *e, const struct stat *st, int64_t since) {
    int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    int64_t ctime = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    int regular = S_ISREG(st->st_mode);
    int racy = e->mtime >= since || e->ctime >= since;
    if ((uint64_t)st->st_size == e->size && mtime == e->mtime && ctime == e->ctime &&
        (uint64_t)st->st_ino == e->ino && (uint64_t)st->st_dev == e->dev) {
        if (!regular)
            return NOT_FILE;
        return racy ? RACY : CLEAN;
    }
    if (!regular)
        return NOT_FILE;
    if ((uint64_t)st->st_ino != e->ino || (uint64_t)st->st_dev != e->dev)
        return REPLACED;
    if ((uint64_t)st->st_size != e->size)
        return CHANGED;
    return racy ? RACY : TOUCHED;
}

/* The open directories of the current entry's parent path, one fd per
 * component, each opened relative to the one before with O_NOFOLLOW. */
typedef struct {
    int fds[MAX_DEPTH + 1];
    size_t ends[MAX_DEPTH + 1]; /* length of the directory path at each depth */
    int depth;                  /* fds[0] is the root */
    char path[4096];
    size_t len;                 /* the directory path now open ("" at the root) */
    int broken;                 /* the directory path could not be opened */
} DirStack;

static void dirs_pop_to(DirStack *d, int depth) {
    while (d->depth > depth) {
        close(d->fds[d->depth]);
        d->depth--;
    }
    d->len = d->ends[d->depth];
}

/* Make `dir` (length n, no trailing slash) the open directory; 0 or -1. */
static int dirs_enter(DirStack *d, const char *dir, size_t n) {
    if (n == d->len && memcmp(dir, d->path, n) == 0)
        return d->broken ? -1 : 0;
    /* keep the longest open prefix that ends at a component boundary */
    int keep = 0;
    for (int k = d->depth; k > 0; k--) {
        size_t e = d->ends[k];
        if (e <= n && memcmp(dir, d->path, e) == 0 && (e == n || dir[e] == '/')) {
            keep = k;
            break;
        }
    }
    dirs_pop_to(d, keep);
    d->broken = 0;
    size_t at = d->ends[keep];
    while (at < n) {
        size_t start = at ? at + 1 : 0;
        const char *slash = memchr(dir + start, '/', n - start);
        size_t end = slash ? (size_t)(slash - dir) : n;
        char name[256];
        if (end - start >= sizeof(name) || d->depth >= MAX_DEPTH || end >= sizeof(d->path)) {
            d->broken = 1;
            return -1;
        }
        memcpy(name, dir + start, end - start);
        name[end - start] = '\0';
        int fd = openat(d->fds[d->depth], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            d->broken = 1;
            if (n < sizeof(d->path)) {
                memcpy(d->path, dir, n);
                d->len = n;
            }
            return -1;
        }
        d->depth++;
        d->fds[d->depth] = fd;
        d->ends[d->depth] = end;
        memcpy(d->path, dir, end);
        d->len = end;
        at = end;
    }
    return 0;
}

static void *check_range(void *arg) {
    Job *job = arg;
    const Index *ix = job->ix;
    DirStack *d = malloc(sizeof(DirStack));
    if (!d) {
        job->failed = 1;
        return NULL;
    }
    d->fds[0] = job->root_fd;
    d->ends[0] = 0;
    d->depth = 0;
    d->len = 0;
    d->broken = 0;
    Py_ssize_t lo;
    while (!job->failed && (lo = __atomic_fetch_add(job->next, CHUNK, __ATOMIC_RELAXED)) < ix->count) {
        Py_ssize_t hi = ix->count - lo > CHUNK ? lo + CHUNK : ix->count;
        for (Py_ssize_t i = lo; i < hi && !job->failed; i++) {
            Stat e;
            read_stat(ix, i, &e);
            if (e.flags & SKIP_WORKTREE)
                continue;
            const char *path = ipath(ix, i);
            const char *slash = memrchr(path, '/', ilen(ix, i));
            size_t dirlen = slash ? (size_t)(slash - path) : 0;
            const char *name = slash ? slash + 1 : path;
            struct stat st;
            if (dirs_enter(d, path, dirlen) != 0 || fstatat(d->fds[d->depth], name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                push(job, i, MISSING);
                continue;
            }
            int state = compare(&e, &st, job->since);
            if (state != CLEAN)
                push(job, i, state);
        }
    }
    dirs_pop_to(d, 0);
    free(d);
    return NULL;
}

static PyObject *path_str(const Index *ix, Py_ssize_t i) {
    return PyUnicode_DecodeUTF8(ipath(ix, i), ilen(ix, i), "surrogateescape");
}

/* A check under way: its threads run with no Python object in reach; the
 * buffer export keeps the index bytes (an mmap cannot be closed meanwhile). */
typedef struct {
    Py_buffer buf;
    PyObject *root_obj;
    Index ix;
    int root_fd;
    int workers;           /* threads started: jobs[1..workers]; jobs[0] is check_end's own */
    Py_ssize_t next;       /* the first entry no job has taken yet */
    Job jobs[16]; /* workers <= 15 */
    pthread_t tids[16];
    int started[16];
} Check;

static void check_free(Check *c) {
    for (int t = 0; t <= c->workers; t++)
        free(c->jobs[t].out);
    if (c->root_fd >= 0)
        close(c->root_fd);
    index_close(&c->ix);
    Py_DECREF(c->root_obj);
    PyBuffer_Release(&c->buf);
    PyMem_RawFree(c);
}

/* Parse check's arguments, open the index and the root, start the threads:
 * one fewer than `threads`, the caller's being the last when it comes to
 * check_end (while it does other work, those started have the other cores),
 * but one if `async` and one is all. One that cannot be created leaves its
 * share to check_end. NULL with an exception set. */
static Check *check_begin(PyObject *args, int async) {
    Check *c = PyMem_RawCalloc(1, sizeof(Check));
    if (!c)
        return (Check *)PyErr_NoMemory();
    long long since;
    int threads;
    if (!PyArg_ParseTuple(args, "y*O&Li", &c->buf, PyUnicode_FSConverter, &c->root_obj, &since, &threads)) {
        PyMem_RawFree(c);
        return NULL;
    }
    c->root_fd = -1;
    if (index_open(&c->ix, c->buf.buf, c->buf.len) != 0) {
        check_free(c);
        return NULL;
    }
    c->root_fd = open(PyBytes_AS_STRING(c->root_obj), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->root_fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, c->root_obj);
        check_free(c);
        return NULL;
    }
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    if (c->ix.count < 1000 * threads)
        threads = c->ix.count >= 2000 ? 2 : 1;
    c->workers = async && threads == 1 ? 1 : threads - 1;
    for (int t = 0; t <= c->workers; t++) {
        c->jobs[t].ix = &c->ix;
        c->jobs[t].root_fd = c->root_fd;
        c->jobs[t].since = since;
        c->jobs[t].next = &c->next;
    }
    for (int t = 1; t <= c->workers; t++)
        c->started[t] = pthread_create(&c->tids[t], NULL, check_range, &c->jobs[t]) == 0;
    return c;
}

/* Wait for the threads, without taking part (nothing Python is touched). */
static void check_join(Check *c) {
    for (int t = 1; t <= c->workers; t++)
        if (c->started[t]) {
            pthread_join(c->tids[t], NULL);
            c->started[t] = 0;
        }
}

/* Take the chunks no thread has taken yet, join the threads, free `c`:
 * the exceptions in index order, or NULL with an exception. */
static PyObject *check_end(Check *c) {
    Py_BEGIN_ALLOW_THREADS
    check_range(&c->jobs[0]);
    check_join(c);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    int failed = 0;
    for (int t = 0; t <= c->workers; t++)
        failed |= c->jobs[t].failed;
    if (failed) {
        PyErr_NoMemory();
    } else if ((result = PyList_New(0)) != NULL) {
        /* each thread's exceptions are in index order: merge them */
        Py_ssize_t at[16] = {0};
        for (;;) {
            int next_t = -1;
            for (int t = 0; t <= c->workers; t++)
                if (at[t] < c->jobs[t].n &&
                    (next_t < 0 || c->jobs[t].out[at[t]].index < c->jobs[next_t].out[at[next_t]].index))
                    next_t = t;
            if (next_t < 0)
                break;
            const Exception *x = &c->jobs[next_t].out[at[next_t]++];
            PyObject *item = Py_BuildValue("(Nin)", path_str(&c->ix, x->index), x->state, x->index);
            if (!item || PyList_Append(result, item) != 0) {
                Py_XDECREF(item);
                Py_CLEAR(result);
                break;
            }
            Py_DECREF(item);
        }
    }
    check_free(c);
    return result;
}

static PyObject *core_check(PyObject *Py_UNUSED(self), PyObject *args) {
    Check *c = check_begin(args, 0);
    return c ? check_end(c) : NULL;
}

/* check_start's handle: a capsule of a Slot holding the Check until
 * check_finish takes it; one dropped unfinished waits for its threads. */
#define HANDLE_NAME "ama._speedups.check"

typedef struct {
    Check *check; /* NULL once finished */
} Slot;

static void handle_drop(PyObject *capsule) {
    Slot *slot = PyCapsule_GetPointer(capsule, HANDLE_NAME);
    if (!slot)
        return;
    if (slot->check) {
        check_join(slot->check);
        check_free(slot->check);
    }
    PyMem_RawFree(slot);
}

static PyObject *core_check_start(PyObject *Py_UNUSED(self), PyObject *args) {
    Slot *slot = PyMem_RawMalloc(sizeof(Slot));
    if (!slot)
        return PyErr_NoMemory();
    slot->check = check_begin(args, 1);
    if (!slot->check) {
        PyMem_RawFree(slot);
        return NULL;
    }
    PyObject *handle = PyCapsule_New(slot, HANDLE_NAME, handle_drop);
    if (!handle) {
        check_join(slot->check);
        check_free(slot->check);
        PyMem_RawFree(slot);
    }
    return handle;
}

static PyObject *core_check_finish(PyObject *Py_UNUSED(self), PyObject *handle) {
    Slot *slot = PyCapsule_IsValid(handle, HANDLE_NAME) ? PyCapsule_GetPointer(handle, HANDLE_NAME) : NULL;
    if (!slot) {
        PyErr_SetString(PyExc_TypeError, "check_finish takes what check_start returned");
        return NULL;
    }
    Check *c = slot->check;
    if (!c) {
        PyErr_SetString(PyExc_ValueError, "this check is already finished");
        return NULL;
    }
    slot->check = NULL;
    return check_end(c);
}

/* -- walk ------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    Py_ssize_t count;
    int failed;
} Names; /* NUL-separated names */

static int buf_reserve(char **data, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 4096;
    while (c < need)
        c *= 2;
    char *more = realloc(*data, c);
    if (!more)
        return -1;
    *data = more;
    *cap = c;
    return 0;
}

static void names_add(Names *n, const char *s, size_t len) {
    if (buf_reserve(&n->data, &n->cap, n->len + len + 1) != 0) {
        n->failed = 1;
        return;
    }
    memcpy(n->data + n->len, s, len);
    n->data[n->len + len] = '\0';
    n->len += len + 1;
    n->count++;
}

/* First i in [lo, hi) whose path is >= key (byte order); hi if none. */
static Py_ssize_t lower_bound(const Index *ix, const char *key, size_t klen, Py_ssize_t lo, Py_ssize_t hi) {
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        size_t n = ilen(ix, mid) < klen ? ilen(ix, mid) : klen;
        int c = memcmp(ipath(ix, mid), key, n);
        if (c < 0 || (c == 0 && ilen(ix, mid) < klen))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* git's and ama's own directories, at any depth, in any letter case
   (ama/names.py is_reserved_dir): never walked, never untracked. */
static int is_reserved_dir(const char *name) {
    if (name[0] != '.')
        return 0;
    static const char *const reserved[] = {"git", "ama"};
    for (size_t r = 0; r < sizeof(reserved) / sizeof(reserved[0]); r++) {
        const char *want = reserved[r];
        size_t k = 0;
        while (want[k] && name[k + 1] && (name[k + 1] | 0x20) == want[k])
            k++;
        if (want[k] == '\0' && name[k + 1] == '\0')
            return 1;
    }
    return 0;
}

/* The directory cache (docs/change-detection.md, "The directory cache"):
 * records in path order, each
 *     i64 mtime_ns, i64 ctime_ns, u64 ino, u64 dev,
 *     u32 path length, u32 untracked files, u32 untracked directories,
 *     u32 names length, the path, the names (each ending in NUL).
 * The path is the directory's ("" for the root); the names are those a read
 * of it listed as untracked, files first. */
#define REC_SIZE 48

typedef struct {
    int64_t mtime, ctime;
    uint64_t ino, dev;
    uint32_t plen, nfiles, ndirs, nlen;
    const char *path, *names;
} Rec;

typedef struct {
    Rec *recs;
    Py_ssize_t count;
} Cache;

static void rec_read(const char *p, Rec *r) {
    memcpy(&r->mtime, p, 8);
    memcpy(&r->ctime, p + 8, 8);
    memcpy(&r->ino, p + 16, 8);
    memcpy(&r->dev, p + 24, 8);
    memcpy(&r->plen, p + 32, 4);
    memcpy(&r->nfiles, p + 36, 4);
    memcpy(&r->ndirs, p + 40, 4);
    memcpy(&r->nlen, p + 44, 4);
    r->path = p + REC_SIZE;
    r->names = r->path + r->plen;
}

static int path_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen < blen ? -1 : alen > blen);
}

/* Index the records of `data`; a cache that does not parse is empty. 0, or
   -1 out of memory. */
static int cache_open(Cache *c, const char *data, size_t len) {
    c->recs = NULL;
    c->count = 0;
    Py_ssize_t n = 0;
    for (size_t at = 0; at < len; n++) {
        Rec r;
        if (len - at < REC_SIZE)
            return 0;
        rec_read(data + at, &r);
        if ((uint64_t)r.plen + r.nlen > len - at - REC_SIZE)
            return 0;
        at += REC_SIZE + (size_t)r.plen + r.nlen;
    }
    c->recs = malloc(sizeof(Rec) * (n ? n : 1));
    if (!c->recs)
        return -1;
    size_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Rec *r = &c->recs[i];
        rec_read(data + at, r);
        at += REC_SIZE + (size_t)r->plen + r->nlen;
        /* names: exactly nfiles + ndirs NUL-terminated, non-empty names;
           paths strictly increasing */
        uint64_t count = 0;
        int ok = r->nlen == 0 || r->names[r->nlen - 1] == '\0';
        for (uint32_t k = 0, start = 0; ok && k < r->nlen; k++) {
            if (r->names[k] == '\0') {
                /* a name: not empty, not . or .., no '/' */
                const char *name = r->names + start;
                ok = k > start && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
                count++;
                start = k + 1;
            } else if (r->names[k] == '/') {
                ok = 0;
            }
        }
        if (!ok || count != (uint64_t)r->nfiles + r->ndirs || memchr(r->path, '\0', r->plen) ||
            (i > 0 && path_cmp(c->recs[i - 1].path, c->recs[i - 1].plen, r->path, r->plen) >= 0)) {
            free(c->recs);
            c->recs = NULL;
            return 0;
        }
    }
    c->count = n;
    return 0;
}

static const Rec *cache_find(const Cache *c, const char *path, size_t plen) {
    Py_ssize_t lo = 0, hi = c->count;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        int cmp = path_cmp(c->recs[mid].path, c->recs[mid].plen, path, plen);
        if (cmp == 0)
            return &c->recs[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

typedef struct {
    size_t at, plen, size;
    const char *path;
} Out; /* a record written to the output buffer, for sorting */

typedef struct {
    const Index *ix;
    Names files, dirs;
    Cache cache;
    int64_t cutoff;      /* a directory changed at or after this is not recorded */
    char *out;           /* the records to cache, in the order they were made */
    size_t out_len, out_cap;
    Out *outs;
    size_t nouts, outs_cap;
    Py_ssize_t hits;
    int failed;
    char path[4096];
} Walk;

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void out_record(Walk *w, const struct stat *st, size_t plen, uint32_t nfiles, uint32_t ndirs,
                       const char *names, size_t nlen) {
    if (w->failed)
        return;
    if (buf_reserve(&w->out, &w->out_cap, w->out_len + REC_SIZE + plen + nlen) != 0 ||
        buf_reserve((char **)&w->outs, &w->outs_cap, (w->nouts + 1) * sizeof(Out)) != 0) {
        w->failed = 1;
        return;
    }
    char *p = w->out + w->out_len;
    int64_t mtime = ns(st->st_mtim), ctime = ns(st->st_ctim);
    uint64_t ino = st->st_ino, dev = st->st_dev;
    uint32_t pl = (uint32_t)plen, nl = (uint32_t)nlen;
    memcpy(p, &mtime, 8);
    memcpy(p + 8, &ctime, 8);
    memcpy(p + 16, &ino, 8);
    memcpy(p + 24, &dev, 8);
    memcpy(p + 32, &pl, 4);
    memcpy(p + 36, &nfiles, 4);
    memcpy(p + 40, &ndirs, 4);
    memcpy(p + 44, &nl, 4);
    memcpy(p + REC_SIZE, w->path, plen);
    if (nlen)
        memcpy(p + REC_SIZE + plen, names, nlen);
    w->outs[w->nouts].at = w->out_len;
    w->outs[w->nouts].plen = plen;
    w->outs[w->nouts].size = REC_SIZE + plen + nlen;
    w->nouts++;
    w->out_len += REC_SIZE + plen + nlen;
}

static void walk_dir(Walk *w, int fd, size_t plen, Py_ssize_t lo, Py_ssize_t hi, int depth);

static int rec_matches(const Rec *r, const struct stat *st) {
    return r->mtime == ns(st->st_mtim) && r->ctime == ns(st->st_ctim) && r->ino == (uint64_t)st->st_ino &&
           r->dev == (uint64_t)st->st_dev;
}

/* Whether any of the entries [a, b), all below w->path[0:plen), lies in a
   subdirectory of it. */
static int has_subdir(const Walk *w, size_t plen, Py_ssize_t a, Py_ssize_t b) {
    for (Py_ssize_t i = a; i < b; i++)
        if (memchr(ipath(w->ix, i) + plen, '/', ilen(w->ix, i) - plen))
            return 1;
    return 0;
}

static void cached_names(Walk *w, size_t plen, const Rec *r, const struct stat *st);

/* Enter the child directory w->path[0:klen) of the open directory `fd`. */
static void walk_child(Walk *w, int fd, const char *name, size_t klen, Py_ssize_t a, Py_ssize_t b, int depth) {
    if (depth >= MAX_DEPTH)
        return;
    w->path[klen] = '/';
    if (w->cutoff > 0 && !has_subdir(w, klen + 1, a, b)) {
        /* Nothing tracked deeper: a cached directory is decided by its stat
           alone, not opened (at 100 files a directory, most of them). */
        struct stat st;
        const Rec *r;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
            (r = cache_find(&w->cache, w->path, klen)) != NULL && rec_matches(r, &st)) {
            cached_names(w, klen + 1, r, &st);
            return;
        }
    }
    int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0)
        walk_dir(w, sub, klen + 1, a, b, depth + 1);
}

/* A cached directory w->path[0:plen), unchanged: record it again and list
   its recorded untracked names. */
static void cached_names(Walk *w, size_t plen, const Rec *r, const struct stat *st) {
    size_t dlen = plen ? plen - 1 : 0;
    out_record(w, st, dlen, r->nfiles, r->ndirs, r->names, r->nlen);
    w->hits++;
    const char *name = r->names;
    for (uint32_t k = 0; k < r->nfiles + r->ndirs; k++) {
        size_t nlen = strlen(name);
        if (plen + nlen + 2 < sizeof(w->path)) {
            memcpy(w->path + plen, name, nlen);
            names_add(k < r->nfiles ? &w->files : &w->dirs, w->path, plen + nlen);
        }
        name += nlen + 1;
    }
}

/* A cached directory, unchanged: list its recorded untracked names and go
   into the children that hold tracked paths, without reading it. */
static void walk_cached(Walk *w, int fd, size_t plen, Py_ssize_t lo, Py_ssize_t hi, int depth, const Rec *r,
                        const struct stat *st) {
    cached_names(w, plen, r, st);
    Py_ssize_t i = lo;
    while (i < hi && !w->failed && !w->files.failed && !w->dirs.failed) {
        const char *p = ipath(w->ix, i) + plen;
        size_t rest = ilen(w->ix, i) - plen;
        const char *slash = memchr(p, '/', rest);
        if (!slash) {
            i++;
            continue;
        }
        size_t nlen = slash - p;
        size_t klen = plen + nlen;
        char child[256];
        if (nlen == 0 || nlen >= sizeof(child) || klen + 2 >= sizeof(w->path)) {
            i++;
            continue;
        }
        memcpy(child, p, nlen);
        child[nlen] = '\0';
        memcpy(w->path + plen, child, nlen);
        w->path[klen] = '0'; /* the byte after '/' */
        Py_ssize_t b = lower_bound(w->ix, w->path, klen + 1, i, hi);
        if (!(strcmp(child, ".") == 0 || strcmp(child, "..") == 0 || is_reserved_dir(child) || memchr(child, '\0', nlen)))
            walk_child(w, fd, child, klen, i, b, depth);
        i = b > i ? b : i + 1;
    }
    close(fd);
}

static void walk_dir(Walk *w, int fd, size_t plen, Py_ssize_t lo, Py_ssize_t hi, int depth) {
    struct stat st;
    /* The directory's stat before its read: a change after it leaves a
       newer mtime behind, and a record older than the cut-off is never
       written for a directory changed during this walk. */
    int have_stat = w->cutoff > 0 && fstat(fd, &st) == 0;
    if (have_stat) {
        const Rec *r = cache_find(&w->cache, w->path, plen ? plen - 1 : 0);
        if (r && rec_matches(r, &st)) {
            walk_cached(w, fd, plen, lo, hi, depth, r, &st);
            return;
        }
    }
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    /* this directory's untracked names, files and directories apart */
    Names own_files = {0}, own_dirs = {0};
    int complete = have_stat && ns(st.st_mtim) < w->cutoff && ns(st.st_ctim) < w->cutoff;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (!de) {
            if (errno != 0)
                complete = 0; /* a read that failed part-way is not recorded */
            break;
        }
        if (w->files.failed || w->dirs.failed || w->failed)
            break;
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        size_t nlen = strlen(name);
        if (plen + nlen + 2 >= sizeof(w->path)) {
            complete = 0;
            continue;
        }
        int type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat est;
            if (fstatat(dirfd(dir), name, &est, AT_SYMLINK_NOFOLLOW) != 0) {
                complete = 0;
                continue;
            }
            type = S_ISDIR(est.st_mode) ? DT_DIR : S_ISREG(est.st_mode) ? DT_REG : DT_LNK;
        }
        memcpy(w->path + plen, name, nlen);
        size_t klen = plen + nlen;
        if (type == DT_DIR) {
            if (is_reserved_dir(name))
                continue;
            w->path[klen] = '/';
            Py_ssize_t a = lower_bound(w->ix, w->path, klen + 1, lo, hi);
            w->path[klen] = '0'; /* the byte after '/' */
            Py_ssize_t b = lower_bound(w->ix, w->path, klen + 1, a, hi);
            if (a == b) {
                names_add(&w->dirs, w->path, klen);
                if (complete)
                    names_add(&own_dirs, name, nlen);
                continue;
            }
            walk_child(w, dirfd(dir), name, klen, a, b, depth);
        } else if (type == DT_REG) {
            Py_ssize_t i = lower_bound(w->ix, w->path, klen, lo, hi);
            if (i < hi && ilen(w->ix, i) == klen && memcmp(ipath(w->ix, i), w->path, klen) == 0)
                continue;
            names_add(&w->files, w->path, klen);
            if (complete)
                names_add(&own_files, name, nlen);
        }
    }
    if (own_files.failed || own_dirs.failed)
        w->failed = 1;
    if (complete && !w->files.failed && !w->dirs.failed) {
        /* files first, then directories, as one names block */
        if (buf_reserve(&own_files.data, &own_files.cap, own_files.len + own_dirs.len + 1) != 0) {
            w->failed = 1;
        } else {
            if (own_dirs.len)
                memcpy(own_files.data + own_files.len, own_dirs.data, own_dirs.len);
            out_record(w, &st, plen ? plen - 1 : 0, (uint32_t)own_files.count, (uint32_t)own_dirs.count,
                       own_files.data, own_files.len + own_dirs.len);
        }
    }
    free(own_files.data);
    free(own_dirs.data);
    closedir(dir);
}
static PyObject *names_list(const Names *n) {
    PyObject *list = PyList_New(n->count);
    if (!list)
        return NULL;
    size_t at = 0;
    for (Py_ssize_t i = 0; i < n->count; i++) {
        size_t len = strlen(n->data + at);
        PyObject *s = PyUnicode_DecodeFSDefaultAndSize(n->data + at, len);
        if (!s) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, s);
        at += len + 1;
    }
    return list;
}

static int out_cmp(const void *a, const void *b) {
    const Out *x = a, *y = b;
    return path_cmp(x->path, x->plen, y->path, y->plen);
}

/* The records made, in path order, as one bytes object. */
static PyObject *records_bytes(Walk *w) {
    for (size_t i = 0; i < w->nouts; i++)
        w->outs[i].path = w->out + w->outs[i].at + REC_SIZE;
    if (w->nouts > 1)
        qsort(w->outs, w->nouts, sizeof(Out), out_cmp);
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)w->out_len);
    if (!bytes)
        return NULL;
    char *p = PyBytes_AS_STRING(bytes);
    for (size_t i = 0; i < w->nouts; i++) {
        memcpy(p, w->out + w->outs[i].at, w->outs[i].size);
        p += w->outs[i].size;
    }
    return bytes;
}

static PyObject *core_walk(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf, cache = {0};
    PyObject *root_obj;
    long long cutoff = 0;
    if (!PyArg_ParseTuple(args, "y*O&|y*L", &buf, PyUnicode_FSConverter, &root_obj, &cache, &cutoff))
        return NULL;
    Index ix;
    PyObject *result = NULL;
    Walk *w = NULL;
    if (index_open(&ix, buf.buf, buf.len) != 0)
        goto release;
    w = calloc(1, sizeof(Walk));
    if (!w) {
        PyErr_NoMemory();
        goto done;
    }
    w->ix = &ix;
    w->cutoff = cutoff;
    if (cutoff > 0 && cache.buf && cache_open(&w->cache, cache.buf, (size_t)cache.len) != 0) {
        PyErr_NoMemory();
        goto done;
    }
    int fd = open(PyBytes_AS_STRING(root_obj), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, root_obj);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    walk_dir(w, fd, 0, 0, ix.count, 0);
    Py_END_ALLOW_THREADS
    if (w->files.failed || w->dirs.failed || w->failed) {
        PyErr_NoMemory();
    } else {
        PyObject *files = names_list(&w->files);
        PyObject *dirs = files ? names_list(&w->dirs) : NULL;
        PyObject *records = dirs ? records_bytes(w) : NULL;
        if (records)
            result = Py_BuildValue("(NNNn)", files, dirs, records, w->hits);
        else {
            Py_XDECREF(files);
            Py_XDECREF(dirs);
        }
    }
done:
    if (w) {
        free(w->files.data);
        free(w->dirs.data);
        free(w->cache.recs);
        free(w->out);
        free(w->outs);
        free(w);
    }
    index_close(&ix);
release:
    Py_DECREF(root_obj);
    PyBuffer_Release(&buf);
    if (cache.buf)
        PyBuffer_Release(&cache);
    return result;
}

/* -- store_new ---------------------------------------------------------------- */

enum { FALLBACK = 0, CHANGED_AFTER_LINK = 1, STORED = 2, PRESENT = 3 };
#define STORE_CHUNK 64 /* paths a store thread takes at a time */

typedef struct {
    const char *root, *objects;
    char **paths; /* work-tree relative, file-system encoding */
    Py_ssize_t count;
    Py_ssize_t *next;
    size_t max_size;
    uint8_t *results;   /* one of the enum above a path */
    uint8_t (*digests)[32];
    uint8_t (*records)[STAT_SIZE];
    uint64_t *sizes;
    int failed;
} StoreJob;

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The index's stat record (ama/index.py STAT: size, mtime, ctime, ino, dev, mode, flags). */
static void stat_record(const struct stat *st, uint8_t *r) {
    put_u64(r, (uint64_t)st->st_size);
    put_u64(r + 8, (uint64_t)ns(st->st_mtim));
    put_u64(r + 16, (uint64_t)ns(st->st_ctim));
    put_u64(r + 24, (uint64_t)st->st_ino);
    put_u64(r + 32, (uint64_t)st->st_dev);
    uint32_t mode = (uint32_t)st->st_mode, flags = 0;
    memcpy(r + 40, &mode, 4);
    memcpy(r + 44, &flags, 4);
}

/* hashing.same_snapshot */
static int same_snapshot(const struct stat *a, const struct stat *b) {
    return a->st_size == b->st_size && ns(a->st_mtim) == ns(b->st_mtim) && ns(a->st_ctim) == ns(b->st_ctim) &&
           a->st_ino == b->st_ino;
}

static int store_one(const StoreJob *job, const char *rel, uint8_t *buf, char *full, size_t full_cap,
                     uint8_t digest[32], uint8_t record[STAT_SIZE], uint64_t *size) {
    static const char hex[] = "0123456789abcdef";
    size_t rlen = strlen(job->root), plen = strlen(rel), olen = strlen(job->objects);
    if (rlen + 1 + plen + 1 > full_cap || olen + 1 + 2 + 1 + 62 + 1 > full_cap)
        return FALLBACK;
    memcpy(full, job->root, rlen);
    full[rlen] = '/';
    memcpy(full + rlen + 1, rel, plen + 1);
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return FALLBACK;
    int result = FALLBACK;
    struct stat st, after, linked;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > job->max_size)
        goto done;
    /* One byte more than expected: a file that grew is not hashed short. */
    size_t want = (size_t)st.st_size + 1, got = 0;
    while (got < want) {
        ssize_t n = pread(fd, buf + got, want - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)st.st_size)
        goto done;
    ama_blake3(buf, got, digest);
    if (fstat(fd, &after) != 0 || !same_snapshot(&st, &after))
        goto done;
    char *dest = full + rlen + 1 + plen + 1; /* after the source path, same buffer */
    size_t dlen = olen + 1 + 2 + 1 + 62 + 1;
    if (rlen + 1 + plen + 1 + dlen > full_cap)
        goto done;
    memcpy(dest, job->objects, olen);
    char *p = dest + olen;
    *p++ = '/';
    for (int i = 0; i < 32; i++) {
        if (i == 1)
            *p++ = '/';
        *p++ = hex[digest[i] >> 4];
        *p++ = hex[digest[i] & 15];
    }
    *p = 0;
    int present = 0;
    if (link(full, dest) != 0) {
        if (errno != EEXIST)
            goto done; /* the Python path decides: another link mode, or an error */
        present = 1;
    } else if (lstat(dest, &linked) != 0 || linked.st_ino != st.st_ino || linked.st_dev != st.st_dev) {
        /* The path names another file than the one hashed (saved over
         * between hash and link): never keep it under this name. */
        unlink(dest);
        goto done;
    }
    struct stat final;
    if (fstat(fd, &final) != 0)
        goto done;
    if (final.st_size != st.st_size || ns(final.st_mtim) != ns(st.st_mtim)) {
        if (!present)
            unlink(dest);
        result = CHANGED_AFTER_LINK;
        goto done;
    }
    stat_record(&final, record);
    *size = (uint64_t)final.st_size;
    result = present ? PRESENT : STORED;
done:
    close(fd);
    return result;
}

static void *store_range(void *arg) {
    StoreJob *job = arg;
    uint8_t *buf = malloc(job->max_size + 1);
    size_t full_cap = 3 * PATH_MAX;
    char *full = malloc(full_cap);
    if (!buf || !full) {
        job->failed = 1;
    } else {
        Py_ssize_t lo;
        while (!job->failed && (lo = __atomic_fetch_add(job->next, STORE_CHUNK, __ATOMIC_RELAXED)) < job->count) {
            Py_ssize_t hi = job->count - lo > STORE_CHUNK ? lo + STORE_CHUNK : job->count;
            for (Py_ssize_t i = lo; i < hi; i++)
                job->results[i] = (uint8_t)store_one(job, job->paths[i], buf, full, full_cap, job->digests[i],
                                                     job->records[i], &job->sizes[i]);
        }
    }
    free(buf);
    free(full);
    return NULL;
}

static PyObject *core_store_new(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *root_obj, *objects_obj, *paths;
    Py_ssize_t max_size;
    int threads;
    if (!PyArg_ParseTuple(args, "O&O&O!ni", PyUnicode_FSConverter, &root_obj, PyUnicode_FSConverter, &objects_obj,
                          &PyList_Type, &paths, &max_size, &threads))
        return NULL;
    PyObject *result = NULL, *encoded = NULL;
    Py_ssize_t count = PyList_GET_SIZE(paths);
    char **cpaths = PyMem_Calloc(count ? count : 1, sizeof(char *));
    uint8_t *results = PyMem_Calloc(count ? count : 1, 1);
    uint8_t(*digests)[32] = PyMem_Calloc(count ? count : 1, 32);
    uint8_t(*records)[STAT_SIZE] = PyMem_Calloc(count ? count : 1, STAT_SIZE);
    uint64_t *sizes = PyMem_Calloc(count ? count : 1, sizeof(uint64_t));
    if (!cpaths || !results || !digests || !records || !sizes) {
        PyErr_NoMemory();
        goto done;
    }
    if (max_size < 0)
        max_size = 0;
    if ((encoded = PyList_New(count)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *b = PyUnicode_EncodeFSDefault(PyList_GET_ITEM(paths, i));
        if (!b)
            goto done;
        PyList_SET_ITEM(encoded, i, b);
        cpaths[i] = PyBytes_AS_STRING(b);
    }
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    if (count < 2 * STORE_CHUNK)
        threads = 1;
    StoreJob jobs[16];
    pthread_t tids[16];
    int started[16] = {0};
    Py_ssize_t next = 0;
    for (int t = 0; t < threads; t++)
        jobs[t] = (StoreJob){PyBytes_AS_STRING(root_obj), PyBytes_AS_STRING(objects_obj), cpaths, count, &next,
                             (size_t)max_size, results, digests, records, sizes, 0};
    Py_BEGIN_ALLOW_THREADS
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tids[t], NULL, store_range, &jobs[t]) == 0;
    store_range(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            store_range(&jobs[t]);
    }
    Py_END_ALLOW_THREADS
    int failed = 0;
    for (int t = 0; t < threads; t++)
        failed |= jobs[t].failed;
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    if ((result = PyList_New(count)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item;
        if (results[i] == STORED || results[i] == PRESENT)
            item = Py_BuildValue("(y#y#KO)", (const char *)digests[i], (Py_ssize_t)32, (const char *)records[i],
                                 (Py_ssize_t)STAT_SIZE, (unsigned long long)sizes[i],
                                 results[i] == PRESENT ? Py_True : Py_False);
        else
            item = PyLong_FromLong(results[i]);
        if (!item) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    Py_XDECREF(encoded);
    PyMem_Free(cpaths);
    PyMem_Free(results);
    PyMem_Free(digests);
    PyMem_Free(records);
    PyMem_Free(sizes);
    Py_DECREF(root_obj);
    Py_DECREF(objects_obj);
    return result;
}

static PyObject *core_blake3(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    uint8_t out[32];
    Py_BEGIN_ALLOW_THREADS
    ama_blake3(buf.buf, (size_t)buf.len, out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyMethodDef methods[] = {
    {"check", core_check, METH_VARARGS, "check(data, root, since_ns, threads) -> [(path, state, position)]"},
    {"check_start", core_check_start, METH_VARARGS, "check_start(data, root, since_ns, threads) -> handle"},
    {"check_finish", core_check_finish, METH_O, "check_finish(handle) -> [(path, state, position)]"},
    {"walk", core_walk, METH_VARARGS,
     "walk(data, root, cache=b'', cutoff_ns=0) -> (untracked files, untracked directories, records, hits)"},
    {"store_new", core_store_new, METH_VARARGS,
     "store_new(root, objects, paths, max_size, threads) -> [(digest, stat record, size, present) or FALLBACK or CHANGED]"},
    {"blake3", core_blake3, METH_VARARGS, "blake3(data) -> the 32-byte BLAKE3 digest (the add path's portable C)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "ama's compiled change-detection core", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__speedups(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddIntConstant(m, "VERSION", CORE_VERSION) != 0 ||
              PyModule_AddIntConstant(m, "FALLBACK", FALLBACK) != 0 ||
              PyModule_AddIntConstant(m, "CHANGED", CHANGED_AFTER_LINK) != 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
