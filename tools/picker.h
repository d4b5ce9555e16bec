/* mcview's broadcast picker and `mcview --list` (tools/picker.c). */
#ifndef MC_PICKER_H
#define MC_PICKER_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <signal.h>
#include <stddef.h>

#include "mc/discovery.h"

/* Prints the broadcasts heard in `seconds` (--json: one object each).
 * Returns the exit status: 0, or 1 when none was heard. */
int mc_pick_list(const char *iface, const char *known_file, int json, double seconds);
/* Shows the broadcasts in the window until one is chosen (a lone one by
 * itself after 2.5 s). Returns 1 with *out (and pass, when the broadcast
 * is protected and the student typed its passphrase; else pass = ""),
 * 0 when the student quit, -1 on an error. */
int mc_pick(SDL_Window *win, SDL_Renderer *ren, TTF_Font *font, const char *iface,
            const char *known_file, volatile sig_atomic_t *stop, mc_disco_entry *out,
            char *pass, size_t pass_cap);

#endif
