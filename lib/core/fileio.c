/* fileio.c - whole-file reading with a size cap, and atomic writes (an
 * unnamed or temporary file beside the destination, fsync, rename over it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "internal.h"
#include "digitnet/rng.h"
#include "digitnet/clock.h"

/* "path: what: reason" from errno, as DN_ERR_IO. */
static dn_status io_error(const char *what, const char *path)
{
    char buf[128];
    const char *reason = strerror_r(errno, buf, sizeof buf);
    return dn_fail(DN_ERR_IO, "%s: %s: %s", path, what, reason);
}

/* What a file of this mode is, for "not a regular file" messages. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a regular file";
}

/* ---- reading ---- */

static dn_status read_all(int fd, const char *path, uint8_t *buffer, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buffer + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_error("read failed", path);
        if (n == 0)
            return dn_fail(DN_ERR_IO, "%s: short read (%zu of %zu bytes; the file shrank while being read)",
                           path, got, size);
        got += (size_t)n;
    }
    return DN_OK;
}

dn_status dn_read_file(const char *path, size_t max_bytes, const char *what, uint8_t **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; a regular file
     * ignores the flag, and anything else is refused right after. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return io_error("cannot open", path);
    struct stat info;
    dn_status status = DN_OK;
    if (fstat(fd, &info) != 0)
        status = io_error("cannot stat", path);
    else if (!S_ISREG(info.st_mode))
        status = dn_fail(DN_ERR_IO, "%s: is %s, not a regular file", path, file_kind(info.st_mode));
    else if ((uintmax_t)info.st_size > max_bytes)
        status = dn_fail(DN_ERR_UNSUPPORTED, "%s: %jd bytes is larger than digitnet reads for %s (%zu)", path,
                         (intmax_t)info.st_size, what, max_bytes);
    uint8_t *buffer = NULL;
    size_t size = status == DN_OK ? (size_t)info.st_size : 0;
    if (status == DN_OK && !(buffer = dn_alloc(size)))
        status = dn_fail(DN_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it", path, size);
    if (status == DN_OK)
        status = read_all(fd, path, buffer, size);
    close(fd);
    if (status != DN_OK) {
        dn_free(buffer);
        return status;
    }
    *bytes = buffer;
    *len = size;
    return DN_OK;
}

/* ---- atomic writing ---- */

/* The file a write to path replaces: path itself, or what a symbolic link
 * at path points to (followed to the end), so that the link survives. *out
 * is malloc'd. A dangling link, a directory or anything else that is not a
 * regular file is refused; a path that does not exist yet is fine. */
static dn_status resolve_destination(const char *path, char **out, struct stat *existing, bool *exists)
{
    *out = NULL;
    *exists = false;
    struct stat link_info;
    if (lstat(path, &link_info) != 0) {
        if (errno != ENOENT)
            return io_error("cannot stat", path);
        *out = strdup(path);
        return *out ? DN_OK : dn_fail(DN_ERR_NOMEM, "%s: out of memory", path);
    }
    if (S_ISLNK(link_info.st_mode)) {
        char *target = realpath(path, NULL);
        if (!target)
            return errno == ENOENT
                       ? dn_fail(DN_ERR_IO, "%s: is a symbolic link to a file that does not exist", path)
                       : io_error("cannot follow the symbolic link", path);
        *out = target;
    } else {
        *out = strdup(path);
        if (!*out)
            return dn_fail(DN_ERR_NOMEM, "%s: out of memory", path);
    }
    if (stat(*out, existing) != 0) {
        dn_status status = io_error("cannot stat", *out);
        free(*out);
        *out = NULL;
        return status;
    }
    if (!S_ISREG(existing->st_mode)) {
        dn_status status = dn_fail(DN_ERR_IO, "%s: is %s; only a regular file can be replaced", path,
                                   file_kind(existing->st_mode));
        free(*out);
        *out = NULL;
        return status;
    }
    *exists = true;
    return DN_OK;
}

/* The directory part of path ("." for a bare name), malloc'd. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
}

/* "<path>.tmp.XXXXXX" with six random letters, into name (capacity cap). */
static void temporary_name(char *name, size_t cap, const char *path, dn_rng *rng)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char suffix[7];
    for (int i = 0; i < 6; i++)
        suffix[i] = letters[(size_t)(dn_rng_uniform(rng) * 62) % 62];
    suffix[6] = '\0';
    snprintf(name, cap, "%s.tmp.%s", path, suffix);
}

/* Whether entry (a name in the destination's directory) is "<base>.tmp."
 * followed by six letters or digits, the shape temporary_name gives. */
static bool is_temporary_name_of(const char *entry, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(entry, base, n) != 0 || strncmp(entry + n, ".tmp.", 5) != 0)
        return false;
    const char *suffix = entry + n + 5;
    size_t i = 0;
    while (i < 6 && ((suffix[i] >= 'a' && suffix[i] <= 'z') || (suffix[i] >= 'A' && suffix[i] <= 'Z') ||
                     (suffix[i] >= '0' && suffix[i] <= '9')))
        i++;
    return i == 6 && suffix[6] == '\0';
}

/* Removes one temporary file left by a writer that died between naming it
 * and renaming it. A live writer holds an exclusive flock on its file from
 * before it has a name until it is renamed, so a lock that can be taken
 * means nobody owns the file any more. */
static void remove_if_abandoned(int dir_fd, const char *name)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return;
    struct stat opened, named;
    if (fstat(fd, &opened) == 0 && S_ISREG(opened.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_ino == opened.st_ino &&
        named.st_dev == opened.st_dev)
        unlinkat(dir_fd, name, 0);
    close(fd);
}

/* Best effort: removes the "<target>.tmp.XXXXXX" files that earlier writers
 * of target left when they were killed at the wrong instant (between
 * dn_atomic_file_publish's link and rename), so that they do not pile up. */
static void sweep_abandoned_temporaries(const char *target)
{
    char *dir = directory_of(target);
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    int dir_fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(dir);
    if (dir_fd < 0)
        return;
    int list_fd = dup(dir_fd);
    DIR *listing = list_fd >= 0 ? fdopendir(list_fd) : NULL;
    if (!listing && list_fd >= 0)
        close(list_fd);
    for (struct dirent *e; listing && (e = readdir(listing));)
        if (is_temporary_name_of(e->d_name, base))
            remove_if_abandoned(dir_fd, e->d_name);
    if (listing)
        closedir(listing);
    close(dir_fd);
}

/* Gives f a fresh name "<target>.tmp.XXXXXX": make(name, f) creates the
 * file under that name or fails with errno EEXIST when it is taken. */
static dn_status take_fresh_name(dn_atomic_file *f, int (*make)(const char *name, dn_atomic_file *f),
                                 const char *what)
{
    size_t cap = strlen(f->target) + 16;
    char *name = malloc(cap);
    if (!name)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory", f->target);
    dn_rng rng;
    dn_rng_seed(&rng, (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)f ^
                          (uint64_t)(dn_seconds() * 1e9));
    for (int attempt = 0; attempt < 100; attempt++) {
        temporary_name(name, cap, f->target, &rng);
        if (make(name, f) == 0) {
            f->tmp = name;
            return DN_OK;
        }
        if (errno != EEXIST)
            break;
    }
    dn_status status = io_error(what, f->target);
    free(name);
    return status;
}

/* Creates the file exclusively with mode 0666 less the umask. */
static int create_named(const char *name, dn_atomic_file *f)
{
    f->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (f->fd >= 0)
        flock(f->fd, LOCK_EX); /* ours: see remove_if_abandoned */
    return f->fd >= 0 ? 0 : -1;
}

/* Gives the unnamed file f->fd a name. */
static int link_unnamed(const char *name, dn_atomic_file *f)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

/* Linux: an unnamed file in the destination's directory, which disappears by
 * itself if the process dies before commit; -1 where that is not available. */
static int create_unnamed_temporary(const char *target)
{
#ifdef O_TMPFILE
    if (access("/proc/self/fd", X_OK) != 0)
        return -1; /* commit could not give it a name */
    char *dir = directory_of(target);
    if (!dir)
        return -1;
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    free(dir);
    if (fd >= 0)
        flock(fd, LOCK_EX); /* held until it is in place: see remove_if_abandoned */
    return fd;
#else
    (void)target;
    return -1;
#endif
}

dn_status dn_atomic_file_open(dn_atomic_file *f, const char *path)
{
    *f = (dn_atomic_file){.fd = -1, .path = path};
    struct stat existing;
    bool exists;
    dn_status status = resolve_destination(path, &f->target, &existing, &exists);
    if (status != DN_OK)
        return status;
    sweep_abandoned_temporaries(f->target);
    f->fd = create_unnamed_temporary(f->target);
    if (f->fd < 0 &&
        (status = take_fresh_name(f, create_named, "cannot create a temporary file beside it")) != DN_OK) {
        dn_atomic_file_abort(f);
        return status;
    }
    /* A new file gets 0666 less the umask (applied by open); a replaced one
     * keeps its mode. */
    if (exists && fchmod(f->fd, existing.st_mode & 07777) != 0) {
        status = io_error("cannot give the new file the mode of the old one", f->target);
        dn_atomic_file_abort(f);
        return status;
    }
    return DN_OK;
}

dn_status dn_atomic_file_write(dn_atomic_file *f, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        ssize_t done = write(f->fd, p, len);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            return io_error("write failed", f->target);
        if (done == 0)
            return dn_fail(DN_ERR_IO, "%s: write failed: no progress", f->target);
        p += done;
        len -= (size_t)done;
    }
    return DN_OK;
}

dn_status dn_atomic_file_finish(dn_atomic_file *f)
{
    if (fsync(f->fd) == 0)
        return DN_OK;
    dn_status status = io_error("fsync failed", f->target);
    dn_atomic_file_abort(f);
    return status;
}

/* Makes a rename in the directory of path durable; best effort, since some
 * file systems refuse to fsync a directory and the file is already in place. */
static void sync_directory(const char *path)
{
    char *dir = directory_of(path);
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* An unnamed file takes the destination's name directly when there is no
 * file there yet (linkat never replaces), so a first save never has a
 * temporary name at all. */
static bool link_unnamed_as_target(dn_atomic_file *f)
{
    return !f->tmp && link_unnamed(f->target, f) == 0;
}

/* Puts f's file at its destination: an unnamed file is linked there when
 * the name is free, otherwise its temporary name (given now if it has none)
 * is renamed over it. On failure f is released and the destination is
 * untouched. */
static dn_status put_in_place(dn_atomic_file *f)
{
    if (link_unnamed_as_target(f))
        return DN_OK;
    dn_status status = DN_OK;
    /* an unnamed file needs a name before a rename can put it in place */
    if (!f->tmp)
        status = take_fresh_name(f, link_unnamed, "cannot give the new file a name beside it");
    if (status == DN_OK && rename(f->tmp, f->target) != 0)
        status = io_error("cannot rename the new file over it", f->target);
    if (status != DN_OK) {
        dn_atomic_file_abort(f);
        return status;
    }
    free(f->tmp);
    f->tmp = NULL;
    return DN_OK;
}

/* Gives an unnamed file whose destination exists its temporary name now,
 * so that putting it in place later is a single rename. On failure f is
 * released. */
static dn_status name_before_placing(dn_atomic_file *f)
{
    struct stat existing;
    if (f->tmp || lstat(f->target, &existing) != 0)
        return DN_OK;
    dn_status status = take_fresh_name(f, link_unnamed, "cannot give the new file a name beside it");
    if (status != DN_OK)
        dn_atomic_file_abort(f);
    return status;
}

/* After put_in_place: the rename made durable, f closed and released. The
 * contents are on disk since finish's fsync; what close could still report
 * cannot undo the rename. */
static void release_placed(dn_atomic_file *f)
{
    sync_directory(f->target);
    dn_atomic_file_abort(f);
}

dn_status dn_atomic_file_publish(dn_atomic_file *f)
{
    dn_status status = put_in_place(f);
    if (status == DN_OK)
        release_placed(f);
    return status;
}

dn_status dn_atomic_file_publish_pair(dn_atomic_file *first, dn_atomic_file *second)
{
    dn_status status = name_before_placing(first);
    if (status == DN_OK)
        status = name_before_placing(second);
    if (status == DN_OK)
        status = put_in_place(first);
    if (status != DN_OK) {
        dn_atomic_file_abort(first);
        dn_atomic_file_abort(second);
        return status;
    }
    status = put_in_place(second);
    release_placed(first);
    if (status == DN_OK)
        release_placed(second);
    return status;
}

dn_status dn_atomic_file_commit(dn_atomic_file *f)
{
    dn_status status = dn_atomic_file_finish(f);
    return status == DN_OK ? dn_atomic_file_publish(f) : status;
}

void dn_atomic_file_abort(dn_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    free(f->target);
    f->fd = -1;
    f->tmp = NULL;
    f->target = NULL;
}

dn_status dn_write_file_atomic(const char *path, const void *bytes, size_t len)
{
    dn_atomic_file f;
    dn_status status = dn_atomic_file_open(&f, path);
    if (status != DN_OK)
        return status;
    status = dn_atomic_file_write(&f, bytes, len);
    if (status != DN_OK) {
        dn_atomic_file_abort(&f);
        return status;
    }
    return dn_atomic_file_commit(&f);
}
