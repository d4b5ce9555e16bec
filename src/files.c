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

int mc_mkdir_parents(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, n + 1);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0700) && errno != EEXIST)
            return -errno;
        struct stat st;
        if (stat(dir, &st))
            return -errno;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
        *p = '/';
    }
    return 0;
}

int mc_read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
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
}

int mc_write_file_atomic(const char *path, const void *data, size_t len, int mode, int exclusive)
{
    char tmp[4096 + 32];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
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
    if (!err && exclusive && link(tmp, path)) /* no rename: it would replace */
        err = -errno;
    else if (!err && !exclusive && rename(tmp, path))
        err = -errno;
    if (err || exclusive)
        unlink(tmp);
    if (err)
        return err;
    return fsync_dir_of(path);
}
