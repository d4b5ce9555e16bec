/* Whole-file reads and atomic writes (mc/files.h). */
#include "mc/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc/common.h"

#ifdef _WIN32
#include <direct.h>
#include <io.h>
#include <windows.h>
#define O_CLOEXEC O_NOINHERIT
#define mkdir(dir, mode) _mkdir(dir)
#define fsync(fd) _commit(fd)
#else
#define O_BINARY 0
#endif

/* A path separator: '/', and on Windows '\\' too. */
static int is_sep(char c)
{
#ifdef _WIN32
    return c == '/' || c == '\\';
#else
    return c == '/';
#endif
}

int mc_mkdir_parents(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, n + 1);
    for (char *p = dir + 1; *p; p++) {
        if (!is_sep(*p))
            continue;
        char sep = *p;
        *p = 0;
#ifdef _WIN32
        if (p[-1] == ':') { /* a drive, "C:" */
            *p = sep;
            continue;
        }
#endif
        if (mkdir(dir, 0700) && errno != EEXIST)
            return -errno;
        struct stat st;
        if (stat(dir, &st))
            return -errno;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
        *p = sep;
    }
    return 0;
}

int mc_read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_BINARY);
    if (fd < 0)
        return -errno;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st))
        err = -errno;
    else if (S_ISDIR(st.st_mode))
        err = -EISDIR;
    else if (!S_ISREG(st.st_mode))
        err = -EINVAL;
    else if ((size_t)st.st_size > max)
        err = MC_ETOOBIG;
    char *buf = err ? NULL : malloc((size_t)st.st_size + 1);
    if (!err && !buf)
        err = MC_ENOMEM;
    size_t got = 0;
    while (!err) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = -errno;
        else if (r == 0 || (got += (size_t)r) == (size_t)st.st_size)
            break;
    }
    close(fd);
    if (err) {
        free(buf);
        return err;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}

static int fsync_dir_of(const char *path)
{
#ifdef _WIN32
    (void)path; /* NTFS journals the rename (MOVEFILE_WRITE_THROUGH) */
    return 0;
#else
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return -ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = fsync(fd) && errno != EINVAL ? -errno : 0; /* some file systems cannot */
    close(fd);
    return err;
#endif
}

/* Puts tmp in place of path: replacing it, or (exclusive) only when there
 * is none, atomically either way. 0 or a negated errno. */
static int put_in_place(const char *tmp, const char *path, int exclusive)
{
#ifdef _WIN32
    DWORD fl = MOVEFILE_WRITE_THROUGH | (exclusive ? 0 : MOVEFILE_REPLACE_EXISTING);
    if (MoveFileExA(tmp, path, fl))
        return 0;
    DWORD e = GetLastError();
    return e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS ? -EEXIST
           : e == ERROR_ACCESS_DENIED ? -EACCES : e == ERROR_DISK_FULL ? -ENOSPC : -EIO;
#else
    if (exclusive) /* no rename: it would replace */
        return link(tmp, path) ? -errno : 0;
    return rename(tmp, path) ? -errno : 0;
#endif
}

int mc_write_file_atomic(const char *path, const void *data, size_t len, int mode, int exclusive)
{
    char tmp[4096 + 32];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_BINARY, mode);
    if (fd < 0)
        return -errno;
    int err = 0;
    const char *p = data;
    for (size_t done = 0; !err && done < len;) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            err = w < 0 ? -errno : -EIO;
        else
            done += (size_t)w;
    }
    if (!err && fsync(fd)) /* a full disk often shows only here */
        err = -errno;
    if (close(fd) && !err)
        err = -errno;
    if (!err)
        err = put_in_place(tmp, path, exclusive);
#ifdef _WIN32
    if (err) /* a move leaves nothing behind */
        unlink(tmp);
#else
    if (err || exclusive) /* a link leaves the temporary name */
        unlink(tmp);
#endif
    if (err)
        return err;
    return fsync_dir_of(path);
}
