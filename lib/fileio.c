/* fileio.c - whole-file reading with a size cap and atomic writes (temporary
 * file beside the destination, fsync, rename over it), for the file formats. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "internal.h"

/* "path: what: reason" from errno, as DN_ERR_IO. */
static dn_status io_error(const char *what, const char *path)
{
    char buf[128];
    const char *reason = strerror_r(errno, buf, sizeof buf);
    return dn_fail(DN_ERR_IO, "%s: %s: %s", path, what, reason);
}

/* ---- reading ---- */

dn_status dn_read_file(const char *path, size_t max_bytes, const char *what, uint8_t **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error("cannot open", path);
    struct stat info;
    dn_status status = DN_OK;
    if (fstat(fd, &info) != 0)
        status = io_error("cannot stat", path);
    else if (!S_ISREG(info.st_mode))
        status = dn_fail(DN_ERR_IO, "%s: not a regular file", path);
    else if ((uintmax_t)info.st_size > max_bytes)
        status = dn_fail(DN_ERR_UNSUPPORTED, "%s: %jd bytes is larger than digitnet reads for %s (%zu)", path,
                         (intmax_t)info.st_size, what, max_bytes);
    if (status != DN_OK) {
        close(fd);
        return status;
    }
    size_t size = (size_t)info.st_size, got = 0;
    uint8_t *buffer = dn_alloc(size);
    if (!buffer) {
        close(fd);
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it", path, size);
    }
    while (got < size) {
        ssize_t n = read(fd, buffer + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            status = io_error("read failed", path);
            break;
        }
        if (n == 0) {
            status = dn_fail(DN_ERR_IO, "%s: short read (%zu of %zu bytes; the file shrank while being read)", path,
                             got, size);
            break;
        }
        got += (size_t)n;
    }
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

dn_status dn_atomic_file_open(dn_atomic_file *f, const char *path)
{
    static const char suffix[] = ".tmp.XXXXXX";
    f->fd = -1;
    f->tmp = NULL;
    f->path = path;
    size_t path_length = strlen(path);
    char *tmp = malloc(path_length + sizeof suffix);
    if (!tmp)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, path_length);
    memcpy(tmp + path_length, suffix, sizeof suffix);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        dn_status status = io_error("cannot create a temporary file beside it", path);
        free(tmp);
        return status;
    }
    struct stat existing;
    mode_t mode = stat(path, &existing) == 0 && S_ISREG(existing.st_mode) ? existing.st_mode & 07777 : 0644;
    f->fd = fd;
    f->tmp = tmp;
    if (fchmod(fd, mode) != 0) {
        dn_status status = io_error("cannot set the mode of the temporary file", tmp);
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
            return io_error("write failed", f->tmp);
        if (done == 0)
            return dn_fail(DN_ERR_IO, "%s: write failed: no progress", f->tmp);
        p += done;
        len -= (size_t)done;
    }
    return DN_OK;
}

/* Makes a rename in the directory of path durable; best effort, since some
 * file systems refuse to fsync a directory and the file is already in place. */
static void sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

dn_status dn_atomic_file_commit(dn_atomic_file *f)
{
    dn_status status = DN_OK;
    if (fsync(f->fd) != 0)
        status = io_error("fsync failed", f->tmp);
    if (close(f->fd) != 0 && status == DN_OK)
        status = io_error("close failed", f->tmp);
    f->fd = -1;
    if (status == DN_OK && rename(f->tmp, f->path) != 0)
        status = io_error("cannot rename the temporary file over it", f->path);
    if (status != DN_OK) {
        dn_atomic_file_abort(f);
        return status;
    }
    sync_directory(f->path);
    free(f->tmp);
    f->tmp = NULL;
    return DN_OK;
}

void dn_atomic_file_abort(dn_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    f->fd = -1;
    f->tmp = NULL;
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
