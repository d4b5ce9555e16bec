/* Small files the tools keep (the signing key, the known senders): read
 * whole with a size cap, written atomically so a full disk or a crash
 * never leaves half a file. */
#ifndef MC_FILES_H
#define MC_FILES_H

#include <stddef.h>

/* Creates the directories above `path` that do not exist (mode 0700).
 * Returns 0 or a negated errno (e.g. -ENOTDIR when a file is in the way). */
int mc_mkdir_parents(const char *path);

/* Reads a regular file of at most `max` bytes into a new buffer (NUL
 * added, not counted in *len). Returns 0, a negated errno (-ENOENT when
 * missing, -EISDIR for a directory, -EINVAL for a device or pipe) or
 * MC_ETOOBIG. */
int mc_read_file(const char *path, size_t max, char **out, size_t *len);

/* Replaces (or creates) `path` with `len` bytes: writes a temporary file
 * beside it, fsyncs it, renames it over `path` and fsyncs the directory.
 * With `exclusive`, fails with -EEXIST instead of replacing a file. On any
 * error the old file is untouched and the temporary file removed.
 * Returns 0 or a negated errno (-ENOSPC: the disk is full). */
int mc_write_file_atomic(const char *path, const void *data, size_t len, int mode, int exclusive);

#endif
