/* The dashboard's HTTP side (src/dashboard.c) on 127.0.0.1, with a plain
 * socket client: the token, the methods, the command queue and its bound,
 * the event stream, and JSON strings from hostile names. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "mc/common.h"
#include "mc/dashboard.h"
#include "test.h"

static mc_dashboard *d;
static char host[64], token[64];
static int port;

static void start(void)
{
    char why[256];
    int err = mc_dashboard_create(NULL, &d, why, sizeof(why));
    if (err)
        FAIL("mc_dashboard_create: %s", why);
    const char *url = mc_dashboard_url(d);
    if (sscanf(url, "http://%63[^:]:%d/?token=%63s", host, &port, token) != 3)
        FAIL("unexpected address %s", url);
    ASSERT_TRUE(!strcmp(host, "127.0.0.1"));
    ASSERT_EQ_INT(strlen(token), 32);
}

static int connect_local(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        FAIL("cannot connect to the dashboard");
    return fd;
}

/* Reads until the peer closes, `want` appears, or 5 s pass. */
static size_t read_some(int fd, char *buf, size_t cap, const char *want)
{
    size_t len = 0;
    uint64_t until = mc_now_us() + 5000000u;
    while (len + 1 < cap && mc_now_us() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        if (want && strstr(buf, want))
            break;
    }
    buf[len] = 0;
    return len;
}

/* One request; returns the status code, the body in body. */
static int request(const char *method, const char *path, char *body, size_t cap)
{
    int fd = connect_local();
    char req[512];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n", method, path);
    if (send(fd, req, (size_t)n, 0) != n)
        FAIL("send");
    static char buf[65536];
    read_some(fd, buf, sizeof(buf), NULL);
    close(fd);
    int code = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
        FAIL("no HTTP status in '%.80s'", buf);
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(body, cap, "%s", b ? b + 4 : "");
    return code;
}

static void test_token(void)
{
    char body[4096], path[256];
    ASSERT_EQ_INT(request("GET", "/", body, sizeof(body)), 403);
    ASSERT_TRUE(strstr(body, "token") != NULL);
    ASSERT_TRUE(strstr(body, "<html") == NULL);
    ASSERT_EQ_INT(request("GET", "/?token=", body, sizeof(body)), 403);
    char wrong[64];
    snprintf(wrong, sizeof(wrong), "%s", token);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a'; /* one character off */
    snprintf(path, sizeof(path), "/state?token=%s", wrong);
    ASSERT_EQ_INT(request("GET", path, body, sizeof(body)), 403);
    snprintf(path, sizeof(path), "/state?token=%s0", token); /* one too long */
    ASSERT_EQ_INT(request("GET", path, body, sizeof(body)), 403);
    snprintf(path, sizeof(path), "/?token=%s", token);
    ASSERT_EQ_INT(request("GET", path, body, sizeof(body)), 200);
    ASSERT_TRUE(strstr(body, "<html") != NULL);
    snprintf(path, sizeof(path), "/nothing?token=%s", token);
    ASSERT_EQ_INT(request("GET", path, body, sizeof(body)), 404);
    unsigned long req, refused;
    mc_dashboard_counts(d, &req, &refused);
    ASSERT_EQ_INT(refused, 4);
}

static void test_commands(void)
{
    char body[4096], path[256];
    mc_dash_command c;
    while (mc_dashboard_next(d, &c)) {
    }
    snprintf(path, sizeof(path), "/control?token=%s&action=pause", token);
    ASSERT_EQ_INT(request("GET", path, body, sizeof(body)), 405); /* a link must not pause */
    ASSERT_EQ_INT(mc_dashboard_next(d, &c), 0);
    ASSERT_EQ_INT(request("POST", "/control?action=pause", body, sizeof(body)), 403);
    ASSERT_EQ_INT(request("POST", path, body, sizeof(body)), 202);
    snprintf(path, sizeof(path), "/control?token=%s&action=region&value=320x180%%2B0%%2B0", token);
    ASSERT_EQ_INT(request("POST", path, body, sizeof(body)), 202);
    ASSERT_EQ_INT(mc_dashboard_next(d, &c), 1);
    ASSERT_EQ_INT(c.action, MC_DASH_PAUSE);
    ASSERT_EQ_INT(mc_dashboard_next(d, &c), 1);
    ASSERT_EQ_INT(c.action, MC_DASH_REGION);
    ASSERT_TRUE(!strcmp(c.value, "320x180+0+0"));
    ASSERT_EQ_INT(mc_dashboard_next(d, &c), 0);
    /* Refused: unknown, without its value, too long, with control characters. */
    snprintf(path, sizeof(path), "/control?token=%s&action=explode", token);
    ASSERT_EQ_INT(request("POST", path, body, sizeof(body)), 400);
    snprintf(path, sizeof(path), "/control?token=%s&action=preset", token);
    ASSERT_EQ_INT(request("POST", path, body, sizeof(body)), 400);
    snprintf(path, sizeof(path), "/control?token=%s&action=preset&value=%0100d", token, 0);
    ASSERT_EQ_INT(request("POST", path, body, sizeof(body)), 400);
    snprintf(path, sizeof(path), "/control?token=%s&action=preset&value=a%%0Ab", token);
    ASSERT_EQ_INT(request("POST", path, body, sizeof(body)), 400);
    ASSERT_EQ_INT(mc_dashboard_next(d, &c), 0);
    /* The queue is bounded: 16 wait, the next is told to try again. */
    snprintf(path, sizeof(path), "/control?token=%s&action=resume", token);
    int accepted = 0, busy = 0;
    for (int i = 0; i < 20; i++) {
        int code = request("POST", path, body, sizeof(body));
        accepted += code == 202;
        busy += code == 503;
    }
    ASSERT_EQ_INT(accepted, 16);
    ASSERT_EQ_INT(busy, 4);
    int n = 0;
    while (mc_dashboard_next(d, &c))
        n++;
    ASSERT_EQ_INT(n, 16);
}

static void test_events(void)
{
    mc_dashboard_publish(d, "{\"n\":1}");
    int fd = connect_local();
    char req[256];
    int n = snprintf(req, sizeof(req), "GET /events?token=%s HTTP/1.1\r\nHost: x\r\n\r\n", token);
    if (send(fd, req, (size_t)n, 0) != n)
        FAIL("send");
    static char buf[16384];
    read_some(fd, buf, sizeof(buf), "data: {\"n\":1}\n\n");
    ASSERT_TRUE(strstr(buf, "text/event-stream") != NULL);
    ASSERT_TRUE(strstr(buf, "event: state\ndata: {\"n\":1}\n\n") != NULL); /* the current state first */
    mc_dashboard_publish(d, "{\"n\":2}");
    read_some(fd, buf, sizeof(buf), "data: {\"n\":2}\n\n");
    ASSERT_TRUE(strstr(buf, "data: {\"n\":2}") != NULL); /* then each new one */
    /* Stopping ends the open stream rather than waiting for it. */
    uint64_t t0 = mc_now_us();
    mc_dashboard_destroy(d);
    d = NULL;
    ASSERT_LE_DBL((double)(mc_now_us() - t0) / 1e6, 5.0);
    close(fd);
}

static void test_json_string(void)
{
    char out[64];
    size_t l = mc_json_string(out, 0, sizeof(out), "a\"b\\c\n\x01");
    ASSERT_TRUE(!strcmp(out, "\"a\\\"b\\\\c\\u000a\\u0001\""));
    ASSERT_EQ_INT(l, strlen(out));
    /* Cut short, never past the buffer, always terminated. */
    char small[8];
    memset(small, 'x', sizeof(small));
    l = mc_json_string(small, 0, sizeof(small), "0123456789");
    ASSERT_TRUE(l < sizeof(small));
    ASSERT_EQ_INT(small[l], 0);
    /* A name of quotes alone cannot leave the string. */
    char q[256];
    l = mc_json_string(q, 0, sizeof(q), "\"\"\"});alert(1)//");
    ASSERT_EQ_INT(q[0], '"');
    ASSERT_EQ_INT(q[l - 1], '"');
    for (size_t i = 1; i + 1 < l; i++)
        if (q[i] == '"')
            ASSERT_EQ_INT(q[i - 1], '\\');
}

int main(void)
{
    test_limit_seconds(60);
    signal(SIGPIPE, SIG_IGN);
    start();
    RUN(test_token);
    RUN(test_commands);
    RUN(test_events);
    RUN(test_json_string);
    return 0;
}
