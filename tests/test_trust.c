/* The known-senders file never lies: a line without its newline, damaged
 * lines (reported with their number), a directory in the way, a file that
 * cannot be written (the viewer says it was not remembered), atomic
 * rewrites that keep every earlier line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc/common.h"
#include "mc/files.h"
#include "mc/trust.h"
#include "test.h"

static char dir[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    ASSERT_EQ_INT(fclose(f), 0);
}

static char *read_text(const char *path)
{
    char *t = NULL;
    size_t len = 0;
    ASSERT_EQ_INT(mc_read_file(path, 1 << 20, &t, &len), 0);
    return t;
}

static const char *A = "0123-4567-89ab-cdef-0123", *B = "aaaa-bbbb-cccc-dddd-eeee";

static void test_scan(void)
{
    uint8_t f[MC_FPR_BYTES], want[MC_FPR_BYTES];
    int bad = -1;
    const char *ok = "# known senders\n\n239.1.1.1:5004 0123-4567-89ab-cdef-0123\n"
                     "239.1.1.2:5004 aaaa-bbbb-cccc-dddd-eeee  # room 2\n"
                     "  239.1.1.1:5004\taaaa-bbbb-cccc-dddd-eeee\r\n";
    ASSERT_EQ_INT(mc_trust_scan(ok, strlen(ok), "239.1.1.1:5004", f, &bad), 1);
    ASSERT_EQ_INT(bad, 0);
    ASSERT_EQ_INT(mc_fpr_parse(B, want), 0);
    ASSERT_TRUE(!memcmp(f, want, MC_FPR_BYTES)); /* the last line for the group counts */
    ASSERT_EQ_INT(mc_trust_scan(ok, strlen(ok), "239.9.9.9:5004", f, &bad), 0);
    /* The last line without its newline is a line like any other. */
    const char *no_nl = "239.1.1.3:6000 0123-4567-89ab-cdef-0123";
    ASSERT_EQ_INT(mc_trust_scan(no_nl, strlen(no_nl), "239.1.1.3:6000", f, &bad), 1);
    /* Damaged: two entries glued, a short fingerprint, no port, junk after,
     * a NUL byte. Each is reported with its line number. */
    const char *damaged[] = {
        "239.1.1.1:5004 0123-4567-89ab-cdef-0123\n239.1.1.1:5004 0123-4567-89ab-cdef-0123239.1.1.1:5004 aaaa-bbbb-cccc-dddd-eeee\n",
        "#\n#\n239.1.1.1:5004 0123-4567\n",
        "239.1.1.1 0123-4567-89ab-cdef-0123\n",
        "239.1.1.1:5004 0123-4567-89ab-cdef-0123 extra\n",
        "239.1.1.1:5004 0123-4567-89ab-cdef-0123\n\0x\n",
    };
    int lines[] = {2, 3, 1, 1, 2};
    size_t lens[] = {strlen(damaged[0]), strlen(damaged[1]), strlen(damaged[2]), strlen(damaged[3]), 44};
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ_INT(mc_trust_scan(damaged[i], lens[i], "239.1.1.1:5004", f, &bad), MC_EFIELD);
        ASSERT_EQ_INT(bad, lines[i]);
    }
}

static mc_auth_rx_stats adopted(const char *fpr_text)
{
    mc_auth_rx_stats st;
    memset(&st, 0, sizeof(st));
    st.key_known = 1;
    ASSERT_EQ_INT(mc_fpr_parse(fpr_text, st.fpr), 0);
    return st;
}

/* First use with a file whose last line lacks its newline: the new entry
 * goes on its own line, the old one survives, and the next run finds both. */
static void test_remember_after_unterminated_line(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/sub/known", dir);
    ASSERT_EQ_INT(mc_mkdir_parents(path), 0);
    write_text(path, "239.1.1.2:5004 aaaa-bbbb-cccc-dddd-eeee");
    mc_trust t;
    ASSERT_EQ_INT(mc_trust_init(&t, "239.1.1.1", 5004, NULL, path), 0);
    ASSERT_TRUE(mc_trust_fpr(&t) == NULL); /* not known yet: first use */
    mc_auth_rx_stats st = adopted(A);
    mc_trust_update(&t, &st, "test");
    ASSERT_EQ_INT(t.saved, 1);
    char *text = read_text(path);
    ASSERT_TRUE(!strcmp(text, "239.1.1.2:5004 aaaa-bbbb-cccc-dddd-eeee\n"
                              "239.1.1.1:5004 0123-4567-89ab-cdef-0123\n"));
    free(text);
    mc_trust t2;
    ASSERT_EQ_INT(mc_trust_init(&t2, "239.1.1.1", 5004, NULL, path), 0);
    ASSERT_EQ_INT(t2.source, MC_TRUST_FILE);
    ASSERT_TRUE(!memcmp(mc_trust_fpr(&t2), st.fpr, MC_FPR_BYTES));
    ASSERT_EQ_INT(mc_trust_init(&t2, "239.1.1.2", 5004, NULL, path), 0);
    ASSERT_EQ_INT(t2.source, MC_TRUST_FILE);
    /* --trust wins over the file; a bad --trust is a usage error. */
    ASSERT_EQ_INT(mc_trust_init(&t2, "239.1.1.1", 5004, B, path), 0);
    ASSERT_EQ_INT(t2.source, MC_TRUST_FLAG);
    ASSERT_EQ_INT(mc_trust_init(&t2, "239.1.1.1", 5004, "0123", path), MC_EINVAL);
    ASSERT_TRUE(strstr(t2.error, "invalid --trust '0123'") != NULL);
}

static void test_damaged_file_is_an_error(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/damaged", dir);
    write_text(path, "# mine\n239.1.1.1:5004 0123-4567-89ab-cdef-0123239.1.1.1:5004 aaaa\n");
    mc_trust t;
    ASSERT_EQ_INT(mc_trust_init(&t, "239.1.1.1", 5004, NULL, path), MC_EFIELD);
    char where[600];
    snprintf(where, sizeof(where), "%s:2: damaged line '239.1.1.1:5004 0123", path);
    ASSERT_TRUE(strstr(t.error, where) != NULL);
    /* A directory where the file should be. */
    ASSERT_EQ_INT(mc_trust_init(&t, "239.1.1.1", 5004, NULL, dir), MC_EFIELD);
    ASSERT_TRUE(strstr(t.error, "Is a directory") != NULL);
}

/* The file cannot be written (a plain file where its directory should be):
 * the key is trusted for this run only, saved == -1 with the reason, and
 * nothing claims it was remembered. */
static void test_cannot_remember(void)
{
    char block[512], path[600];
    snprintf(block, sizeof(block), "%s/block", dir);
    write_text(block, "not a directory\n");
    snprintf(path, sizeof(path), "%s/known", block);
    mc_trust t;
    ASSERT_EQ_INT(mc_trust_init(&t, "239.1.1.1", 5004, NULL, path), 0);
    mc_auth_rx_stats st = adopted(A);
    mc_trust_update(&t, &st, "test");
    ASSERT_EQ_INT(t.saved, -1);
    ASSERT_TRUE(strstr(t.save_error, "Not a directory") != NULL);
}

/* Atomic writes: a failed write leaves the old file exactly as it was and
 * no temporary file behind. /dev/full stands in for a full disk. */
static void test_atomic_write(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/atomic", dir);
    ASSERT_EQ_INT(mc_write_file_atomic(path, "one\n", 4, 0644, 0), 0);
    ASSERT_EQ_INT(mc_write_file_atomic(path, "two\n", 4, 0644, 1), -EEXIST);
    char *t = read_text(path);
    ASSERT_TRUE(!strcmp(t, "one\n"));
    free(t);
    ASSERT_EQ_INT(mc_write_file_atomic(path, "three\n", 6, 0644, 0), 0);
    t = read_text(path);
    ASSERT_TRUE(!strcmp(t, "three\n"));
    free(t);
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    ASSERT_TRUE(access(tmp, F_OK) != 0);
    char *buf = NULL;
    size_t len = 0;
    ASSERT_EQ_INT(mc_read_file("/dev/zero", 100, &buf, &len), -EINVAL); /* not a regular file */
    ASSERT_EQ_INT(mc_read_file(dir, 100, &buf, &len), -EISDIR);
    ASSERT_EQ_INT(mc_read_file(path, 3, &buf, &len), MC_ETOOBIG);
}

int main(void)
{
    test_limit_seconds(30);
    snprintf(dir, sizeof(dir), "/tmp/mc_trust_%ld", (long)getpid());
    ASSERT_EQ_INT(mkdir(dir, 0700), 0);
    RUN(test_scan);
    RUN(test_remember_after_unterminated_line);
    RUN(test_damaged_file_is_an_error);
    RUN(test_cannot_remember);
    RUN(test_atomic_write);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) ? 1 : 0;
}
