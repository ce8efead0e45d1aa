/* test_fileio.c - the file layer every reader and writer uses: FIFOs and
 * directories refused without blocking, atomic writes that respect the
 * umask, keep modes, follow symbolic links and leave nothing behind. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digitnet/status.h"
#include "fileio.h"
#include "internal.h"
#include "test_util.h"

static char dir[64];

static const char *in_dir(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

/* Entries of the test folder, to see that nothing was left behind. */
static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static bool read_equals(const char *path, const char *want)
{
    uint8_t *bytes;
    size_t len;
    bool same = dn_read_file(path, 1 << 20, "a test file", &bytes, &len) == DN_OK &&
                len == strlen(want) && memcmp(bytes, want, len) == 0;
    dn_free(bytes);
    return same;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_fileio: reading a FIFO blocked\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

static void test_refuses_non_regular_files(void)
{
    const char *fifo = in_dir("fifo");
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    signal(SIGALRM, on_alarm);
    alarm(5); /* without O_NONBLOCK the open below never returns */
    uint8_t *bytes;
    size_t len;
    dn_status status = dn_read_file(fifo, 1024, "a test file", &bytes, &len);
    alarm(0);
    CHECK(status == DN_ERR_IO && strstr(dn_last_error(), "FIFO"), "FIFO refused: %s", dn_last_error());
    CHECK(dn_write_file_atomic(fifo, "x", 1) == DN_ERR_IO, "writing over a FIFO refused");
    unlink(fifo);

    CHECK(dn_read_file(dir, 1024, "a test file", &bytes, &len) == DN_ERR_IO &&
              strstr(dn_last_error(), "directory"),
          "directory refused: %s", dn_last_error());
    CHECK(dn_write_file_atomic(dir, "x", 1) == DN_ERR_IO, "writing over a directory refused");
    CHECK(entries() == 0, "nothing left behind");
}

static void test_modes(void)
{
    const char *path = in_dir("new");
    mode_t saved = umask(027);
    CHECK_OK(dn_write_file_atomic(path, "one", 3));
    umask(saved);
    struct stat info;
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0640,
          "a new file gets 0666 less the umask 027: %o", (unsigned)(info.st_mode & 0777));

    CHECK(chmod(path, 0604) == 0, "chmod");
    CHECK_OK(dn_write_file_atomic(path, "two", 3));
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0604,
          "a replaced file keeps its mode: %o", (unsigned)(info.st_mode & 0777));
    CHECK(read_equals(path, "two"), "contents replaced");
    unlink(path);
    CHECK(entries() == 0, "nothing left behind");
}

static void test_symbolic_links(void)
{
    const char *target = in_dir("target"), *link = in_dir("link");
    CHECK_OK(dn_write_file_atomic(target, "old", 3));
    CHECK(symlink("target", link) == 0, "symlink");
    CHECK_OK(dn_write_file_atomic(link, "new", 3));
    struct stat info;
    CHECK(lstat(link, &info) == 0 && S_ISLNK(info.st_mode), "the link is still a link");
    CHECK(read_equals(target, "new"), "the file it points to was replaced");
    unlink(target);
    CHECK(dn_write_file_atomic(link, "x", 1) == DN_ERR_IO && strstr(dn_last_error(), "does not exist"),
          "a dangling link is refused: %s", dn_last_error());
    unlink(link);
    CHECK(entries() == 0, "nothing left behind");
}

/* Opens fa for a and fb for b, writes a_text and b_text (2 bytes each) and
 * finishes both, ready to be published. */
static void finish_two(dn_atomic_file *fa, const char *a, const char *a_text, dn_atomic_file *fb, const char *b,
                       const char *b_text)
{
    CHECK_OK(dn_atomic_file_open(fa, a));
    CHECK_OK(dn_atomic_file_open(fb, b));
    CHECK_OK(dn_atomic_file_write(fa, a_text, 2));
    CHECK_OK(dn_atomic_file_write(fb, b_text, 2));
    CHECK_OK(dn_atomic_file_finish(fa));
    CHECK_OK(dn_atomic_file_finish(fb));
}

static void test_abort_and_pairs(void)
{
    const char *a = in_dir("a"), *b = in_dir("b");
    CHECK_OK(dn_write_file_atomic(a, "a1", 2));
    dn_atomic_file f;
    CHECK_OK(dn_atomic_file_open(&f, a));
    CHECK_OK(dn_atomic_file_write(&f, "a2", 2));
    dn_atomic_file_abort(&f);
    CHECK(read_equals(a, "a1") && entries() == 1, "abort leaves the old file and nothing else");

    /* finish both, then publish both */
    dn_atomic_file fa, fb;
    finish_two(&fa, a, "a3", &fb, b, "b3");
    CHECK(read_equals(a, "a1"), "finish does not replace yet");
    CHECK_OK(dn_atomic_file_publish(&fa));
    CHECK_OK(dn_atomic_file_publish(&fb));
    CHECK(read_equals(a, "a3") && read_equals(b, "b3") && entries() == 2, "both published, no leftovers");

    /* published as a pair: both replaced, then a second that cannot be put
     * in place leaves the first published and nothing else */
    finish_two(&fa, a, "a4", &fb, b, "b4");
    CHECK_OK(dn_atomic_file_publish_pair(&fa, &fb));
    CHECK(read_equals(a, "a4") && read_equals(b, "b4") && entries() == 2, "the pair published, no leftovers");
    unlink(b);
    finish_two(&fa, a, "a5", &fb, b, "b5");
    CHECK(mkdir(b, 0700) == 0, "a folder where the second file goes");
    CHECK(dn_atomic_file_publish_pair(&fa, &fb) == DN_ERR_IO, "a second that cannot be placed fails");
    CHECK(read_equals(a, "a5") && entries() == 2, "the first is in place, nothing left behind");
    rmdir(b);
    unlink(a);
}

static void make_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

/* A writer killed between naming its file and renaming it leaves
 * "<target>.tmp.XXXXXX" behind; the next write to target removes it, but
 * never a file a live writer still holds, nor names of another shape. */
static void test_abandoned_temporaries(void)
{
    const char *target = in_dir("m");
    CHECK_OK(dn_write_file_atomic(target, "old", 3));
    char abandoned[300], live[300], other_file[300], other_shape[300];
    snprintf(abandoned, sizeof abandoned, "%s.tmp.ab12CD", target);
    snprintf(live, sizeof live, "%s.tmp.LIVE99", target);
    snprintf(other_file, sizeof other_file, "%s/n.tmp.ab12CD", dir);
    snprintf(other_shape, sizeof other_shape, "%s.tmp.toolong1", target);
    make_file(abandoned);
    make_file(other_file);
    make_file(other_shape);
    int live_fd = open(live, O_WRONLY | O_CREAT | O_EXCL, 0666);
    CHECK(live_fd >= 0 && flock(live_fd, LOCK_EX) == 0, "a live writer's file");

    CHECK_OK(dn_write_file_atomic(target, "new", 3));
    CHECK(read_equals(target, "new"), "the new contents are in place");
    CHECK(access(abandoned, F_OK) != 0, "the abandoned temporary file is removed");
    CHECK(access(live, F_OK) == 0, "a file a live writer holds is kept");
    CHECK(access(other_file, F_OK) == 0 && access(other_shape, F_OK) == 0,
          "names of another file or another shape are kept");
    close(live_fd);
    unlink(live);
    unlink(other_file);
    unlink(other_shape);
    unlink(target);
    CHECK(entries() == 0, "nothing else left behind");
}

static void test_unwritable_folder(void)
{
    if (geteuid() == 0)
        return; /* root writes anywhere; the CLI test uses a full tmpfs instead */
    const char *sub = in_dir("ro");
    CHECK(mkdir(sub, 0500) == 0, "mkdir");
    char path[300];
    snprintf(path, sizeof path, "%s/file", sub);
    CHECK(dn_write_file_atomic(path, "x", 1) == DN_ERR_IO, "unwritable folder: %s", dn_last_error());
    rmdir(sub);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/dn_test_fileio_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_refuses_non_regular_files();
    test_modes();
    test_symbolic_links();
    test_abort_and_pairs();
    test_abandoned_temporaries();
    test_unwritable_folder();
    rmdir(dir);
    return dn_test_finish();
}
