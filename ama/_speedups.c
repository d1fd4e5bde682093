/* The compiled core of ama's change detection (docs/change-detection.md).
 *
 * Works on the bytes of a version 3 index (docs/index-format.md) in place:
 * nothing is built per entry except for the few entries that need
 * attention. Its pure-Python twin with the same signatures is
 * ama/_purecore.py; ama/policy.py chooses between them.
 *
 *   check(data, root, since_ns, threads) -> [(path, state), ...]
 *       lstat every entry not marked skip-worktree, in index order, relative
 *       to per-directory fds opened component by component with O_NOFOLLOW
 *       (a symlink is never followed out of the work tree), and compare it
 *       with the entry including the racy rule. Only entries that are not
 *       CLEAN are returned. The index is split over `threads` threads that
 *       run with the GIL released.
 *   walk(data, root) -> ([untracked file, ...], [untracked directory, ...])
 *       names in the work tree that the index does not track; a directory
 *       holding no tracked path is returned without being read.
 *
 * States are those of ama/index.py plus MISSING.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORE_VERSION 1

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

typedef struct {
    const char *base;    /* the index bytes */
    Py_ssize_t count;
    const char **paths;  /* NUL-terminated, in index order */
    size_t *lens;
} Index;

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

/* Locate the path table; 0, or -1 with a Python exception set. */
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
    ix->paths = PyMem_RawMalloc(sizeof(char *) * (count ? count : 1));
    ix->lens = PyMem_RawMalloc(sizeof(size_t) * (count ? count : 1));
    if (!ix->paths || !ix->lens) {
        PyMem_RawFree(ix->paths);
        PyMem_RawFree(ix->lens);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t at = names;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)count; i++) {
        const char *nul = at < end ? memchr(data + at, '\0', end - at) : NULL;
        if (!nul) {
            PyMem_RawFree(ix->paths);
            PyMem_RawFree(ix->lens);
            PyErr_SetString(PyExc_ValueError, "index path table truncated");
            return -1;
        }
        ix->paths[i] = data + at;
        ix->lens[i] = nul - (data + at);
        at = nul - data + 1;
    }
    if (at != end) {
        PyMem_RawFree(ix->paths);
        PyMem_RawFree(ix->lens);
        PyErr_SetString(PyExc_ValueError, "index entry count mismatch");
        return -1;
    }
    return 0;
}

static void index_close(Index *ix) {
    PyMem_RawFree(ix->paths);
    PyMem_RawFree(ix->lens);
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
    Py_ssize_t lo, hi;
    Exception *out;
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
    for (Py_ssize_t i = job->lo; i < job->hi && !job->failed; i++) {
        Stat e;
        read_stat(ix, i, &e);
        if (e.flags & SKIP_WORKTREE)
            continue;
        const char *path = ix->paths[i];
        const char *slash = memrchr(path, '/', ix->lens[i]);
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
    dirs_pop_to(d, 0);
    free(d);
    return NULL;
}

static PyObject *path_str(const Index *ix, Py_ssize_t i) {
    return PyUnicode_DecodeUTF8(ix->paths[i], ix->lens[i], "surrogateescape");
}

static PyObject *core_check(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    PyObject *root_obj;
    long long since;
    int threads;
    if (!PyArg_ParseTuple(args, "y*O&Li", &buf, PyUnicode_FSConverter, &root_obj, &since, &threads))
        return NULL;
    Index ix;
    PyObject *result = NULL;
    if (index_open(&ix, buf.buf, buf.len) != 0) {
        Py_DECREF(root_obj);
        PyBuffer_Release(&buf);
        return NULL;
    }
    int root_fd = open(PyBytes_AS_STRING(root_obj), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, root_obj);
        goto done;
    }
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    if (ix.count < 1000 * threads)
        threads = ix.count >= 2000 ? 2 : 1;
    Job jobs[16];
    pthread_t tids[16];
    int started[16] = {0};
    memset(jobs, 0, sizeof(jobs));
    for (int t = 0; t < threads; t++) {
        jobs[t].ix = &ix;
        jobs[t].root_fd = root_fd;
        jobs[t].since = since;
        jobs[t].lo = ix.count * t / threads;
        jobs[t].hi = ix.count * (t + 1) / threads;
    }
    Py_BEGIN_ALLOW_THREADS
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tids[t], NULL, check_range, &jobs[t]) == 0;
    check_range(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            check_range(&jobs[t]);
    }
    Py_END_ALLOW_THREADS
    close(root_fd);
    int failed = 0;
    for (int t = 0; t < threads; t++)
        failed |= jobs[t].failed;
    if (failed) {
        PyErr_NoMemory();
    } else if ((result = PyList_New(0)) != NULL) {
        for (int t = 0; t < threads && result; t++) {
            for (Py_ssize_t k = 0; k < jobs[t].n; k++) {
                PyObject *item = Py_BuildValue("(Ni)", path_str(&ix, jobs[t].out[k].index), jobs[t].out[k].state);
                if (!item || PyList_Append(result, item) != 0) {
                    Py_XDECREF(item);
                    Py_CLEAR(result);
                    break;
                }
                Py_DECREF(item);
            }
        }
    }
    for (int t = 0; t < threads; t++)
        free(jobs[t].out);
done:
    index_close(&ix);
    Py_DECREF(root_obj);
    PyBuffer_Release(&buf);
    return result;
}

/* -- walk ------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    Py_ssize_t count;
    int failed;
} Names; /* NUL-separated names */

static void names_add(Names *n, const char *s, size_t len) {
    if (n->len + len + 1 > n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 4096;
        while (cap < n->len + len + 1)
            cap *= 2;
        char *more = realloc(n->data, cap);
        if (!more) {
            n->failed = 1;
            return;
        }
        n->data = more;
        n->cap = cap;
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
        size_t n = ix->lens[mid] < klen ? ix->lens[mid] : klen;
        int c = memcmp(ix->paths[mid], key, n);
        if (c < 0 || (c == 0 && ix->lens[mid] < klen))
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

typedef struct {
    const Index *ix;
    Names files, dirs;
    char path[4096];
} Walk;

static void walk_dir(Walk *w, int fd, size_t plen, Py_ssize_t lo, Py_ssize_t hi, int depth) {
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL && !w->files.failed && !w->dirs.failed) {
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        size_t nlen = strlen(name);
        if (plen + nlen + 2 >= sizeof(w->path))
            continue;
        int type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
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
                continue;
            }
            int sub = depth < MAX_DEPTH ? openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
            if (sub >= 0) {
                w->path[klen] = '/';
                walk_dir(w, sub, klen + 1, a, b, depth + 1);
            }
        } else if (type == DT_REG) {
            Py_ssize_t i = lower_bound(w->ix, w->path, klen, lo, hi);
            if (i < hi && w->ix->lens[i] == klen && memcmp(w->ix->paths[i], w->path, klen) == 0)
                continue;
            names_add(&w->files, w->path, klen);
        }
    }
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

static PyObject *core_walk(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    PyObject *root_obj;
    if (!PyArg_ParseTuple(args, "y*O&", &buf, PyUnicode_FSConverter, &root_obj))
        return NULL;
    Index ix;
    PyObject *result = NULL;
    if (index_open(&ix, buf.buf, buf.len) != 0) {
        Py_DECREF(root_obj);
        PyBuffer_Release(&buf);
        return NULL;
    }
    Walk *w = calloc(1, sizeof(Walk));
    if (!w) {
        PyErr_NoMemory();
        goto done;
    }
    w->ix = &ix;
    int fd = open(PyBytes_AS_STRING(root_obj), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, root_obj);
        free(w);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    walk_dir(w, fd, 0, 0, ix.count, 0);
    Py_END_ALLOW_THREADS
    if (w->files.failed || w->dirs.failed) {
        PyErr_NoMemory();
    } else {
        PyObject *files = names_list(&w->files);
        PyObject *dirs = files ? names_list(&w->dirs) : NULL;
        if (files && dirs)
            result = Py_BuildValue("(NN)", files, dirs);
        else
            Py_XDECREF(files);
    }
    free(w->files.data);
    free(w->dirs.data);
    free(w);
done:
    index_close(&ix);
    Py_DECREF(root_obj);
    PyBuffer_Release(&buf);
    return result;
}

static PyMethodDef methods[] = {
    {"check", core_check, METH_VARARGS, "check(data, root, since_ns, threads) -> [(path, state)]"},
    {"walk", core_walk, METH_VARARGS, "walk(data, root) -> (untracked files, untracked directories)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "ama's compiled change-detection core", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__speedups(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "VERSION", CORE_VERSION) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
