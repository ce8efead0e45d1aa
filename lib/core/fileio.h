/* fileio.h - whole-file reading with a size cap and atomic file writing,
 * shared by the file formats (IDX, PGM, safetensors); never installed.
 *
 * Every failure records a message for dn_last_error() that starts with the
 * path (the destination's or the temporary file's) and, for system errors,
 * ends with strerror's reason. None of these functions keeps global state;
 * they are as thread-safe as the file system operations they make. */
#ifndef DN_FILEIO_H
#define DN_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "digitnet/status.h"

/* Reads the whole regular file at path into a new dn_alloc'd buffer
 * (*bytes, to release with dn_free; never NULL on success, even for an empty
 * file) of *len bytes. Files larger than max_bytes are refused with
 * DN_ERR_UNSUPPORTED, the message naming what (e.g. "a PGM file"); pass
 * SIZE_MAX for no limit beyond memory. Anything but a regular file (a
 * directory, a FIFO, a device) is refused without blocking. Errors:
 * DN_ERR_IO (cannot open, not a regular file, read error, short read),
 * DN_ERR_NOMEM. On failure *bytes is
 * NULL and *len 0. */
dn_status dn_read_file(const char *path, size_t max_bytes, const char *what, uint8_t **bytes, size_t *len);

/* A file written beside its destination and renamed over it only once
 * complete and on disk, so readers see the old file or the new one, never a
 * part. Use it as
 *
 *     dn_atomic_file f;
 *     dn_status status = dn_atomic_file_open(&f, path);
 *     if (status != DN_OK)
 *         return status;
 *     status = dn_atomic_file_write(&f, bytes, len);   (any number of times)
 *     if (status == DN_OK)
 *         status = dn_atomic_file_commit(&f);
 *     else
 *         dn_atomic_file_abort(&f);
 *
 * On Linux the file is written unnamed (O_TMPFILE), so a process killed
 * while writing leaves nothing behind. When no file exists at path yet,
 * publish links it there directly; to replace a file it gets a name
 * "<path>.tmp.XXXXXX" only for the instant between that link and the
 * rename. Where O_TMPFILE is not available it is written under that name
 * from the start. The writer holds an exclusive flock(2) on its file until
 * it is in place, and dn_atomic_file_open removes the "<path>.tmp.XXXXXX"
 * files nobody holds, which a process killed in that instant left behind.
 *
 * Modes: a new file gets 0666 less the process's umask; a replaced file
 * keeps its mode. Symbolic links: a link at path is followed and the file it
 * points to is replaced (in that file's directory), so the link stays a
 * link; a dangling link, a directory, a FIFO or any other non-regular file
 * at path is refused.
 *
 * The fields are private. */
typedef struct dn_atomic_file {
    int fd;
    char *tmp;        /* the temporary name, malloc'd; NULL while unnamed */
    char *target;     /* the file to replace (path, or where its link leads), malloc'd */
    const char *path; /* as the caller gave it, borrowed until commit or abort */
} dn_atomic_file;

/* Prepares to replace path. path must outlive f. On failure nothing is left
 * behind and f needs no abort. */
dn_status dn_atomic_file_open(dn_atomic_file *f, const char *path);

/* Appends len bytes (retrying short writes and EINTR). On failure the caller
 * still owns f and must abort it. */
dn_status dn_atomic_file_write(dn_atomic_file *f, const void *bytes, size_t len);

/* dn_atomic_file_finish then dn_atomic_file_publish. Releases f whatever
 * the outcome; on failure the destination is left as it was. */
dn_status dn_atomic_file_commit(dn_atomic_file *f);

/* The two halves of commit, so that several files can be made durable first
 * and then put in place one right after the other. finish fsyncs the new
 * file (still open and, on Linux, still unnamed); on failure it releases f.
 * publish links or renames it into place, fsyncs the directory (best
 * effort), closes it and releases f whatever the outcome. */
dn_status dn_atomic_file_finish(dn_atomic_file *f);
dn_status dn_atomic_file_publish(dn_atomic_file *f);

/* Publishes two finished files with nothing between their two renames (no
 * naming, no directory fsync): first, then second. Releases both whatever
 * the outcome. On failure first may already be in place when second is
 * not; that is the only state between the old pair and the new one. */
dn_status dn_atomic_file_publish_pair(dn_atomic_file *first, dn_atomic_file *second);

/* Closes and removes the new file and releases f; the destination is
 * untouched. A no-op on an f already released. */
void dn_atomic_file_abort(dn_atomic_file *f);

/* open + write + commit for contents already in one buffer. */
dn_status dn_write_file_atomic(const char *path, const void *bytes, size_t len);

#endif
