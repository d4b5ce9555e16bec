/* libFuzzer: SAP/SDP announcements (mc/discovery.h), the network input a
 * viewer reads before it has joined anything. Whatever parses must be
 * what a list can show safely: a printable name, a multicast group, a
 * port. (Fuzz builds accept a signature starting "ok", see auth.c.) */
#include <stdint.h>
#include <string.h>

#include "mc/discovery.h"
#include "mc/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_disco_entry e;
    if (mc_disco_parse(data, size, &e))
        return 0;
    char g[64];
    uint16_t port = 0;
    if (!e.name[0] || !e.port || mc_parse_endpoint(e.group, g, sizeof(g), &port))
        __builtin_trap();
    for (const char *p = e.name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            __builtin_trap();
    return 0;
}
