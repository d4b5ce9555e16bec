/* libFuzzer: control messages. Whatever parses re-encodes to itself. */
#include <stdint.h>
#include <string.h>

#include "mc/ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_ctrl_msg m;
    uint8_t out[MC_CTRL_MAX_MSG];
    if (mc_ctrl_parse(data, size, &m) != 0)
        return 0;
    int n = mc_ctrl_write(out, sizeof(out), &m);
    if (n != (int)size || memcmp(out, data, size) != 0)
        __builtin_trap();
    return 0;
}
