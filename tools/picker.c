/* mcview's broadcast picker: the broadcasts announced on this network
 * (mc/discovery.h), in the window; arrow keys and Enter or a click to
 * join; one broadcast alone is joined by itself; a protected one asks for
 * its passphrase in the window. Also `mcview --list`. */
#include "picker.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mc/common.h"
#include "mc/trust.h"

#define SETTLE_US 2500000u /* collect this long before joining a lone broadcast */

/* What this computer knows of the key: 1 the known key for that group,
 * -1 another key is known for it, 0 nothing known. */
static int known_key(const mc_disco_entry *e, const char *known_file)
{
    mc_trust t;
    if (mc_trust_init(&t, e->group, e->port, NULL, known_file) || t.source != MC_TRUST_FILE)
        return 0;
    return memcmp(t.fpr, e->fpr, MC_FPR_BYTES) ? -1 : 1;
}

/* Another entry claims the same name under another key. */
static int name_contested(const mc_disco_entry *list, int n, int i)
{
    for (int k = 0; k < n; k++)
        if (k != i && !strcmp(list[k].name, list[i].name) &&
            memcmp(list[k].fpr, list[i].fpr, MC_FPR_BYTES))
            return 1;
    return 0;
}

static void describe(const mc_disco_entry *list, int n, int i, const char *known_file,
                     char *out, size_t cap)
{
    char f[MC_FPR_CHARS];
    mc_fpr_format(list[i].fpr, f);
    int k = known_key(&list[i], known_file);
    snprintf(out, cap, "%s  -  %s:%u  -  key %s%s%s%s", list[i].name, list[i].group,
             (unsigned)list[i].port, f, list[i].sealed ? "  [passphrase]" : "",
             k > 0 ? "  (known)" : k < 0 ? "  (NOT the key this computer knows)" : "",
             name_contested(list, n, i) ? "  (another key claims this name)" : "");
}

int mc_pick_list(const char *iface, const char *known_file, int json, double seconds)
{
    mc_disco_listener *l;
    int err = mc_disco_listener_create(iface, &l);
    if (err) {
        fprintf(stderr, "mcview: cannot listen for announcements on %s:%d: %s\n", MC_SAP_GROUP,
                MC_SAP_PORT, mc_strerror(err));
        return 1;
    }
    uint64_t end = mc_now_us() + (uint64_t)(seconds * 1e6);
    for (uint64_t now = mc_now_us(); now < end; now = mc_now_us()) {
        mc_disco_listener_wait(l, end - now);
        mc_disco_listener_poll(l, mc_now_us());
    }
    static mc_disco_entry list[MC_DISCO_MAX];
    int n = mc_disco_listener_list(l, list, MC_DISCO_MAX);
    for (int i = 0; i < n; i++) {
        char f[MC_FPR_CHARS], line[512];
        mc_fpr_format(list[i].fpr, f);
        if (json) {
            char name[160];
            size_t o = 0;
            for (const char *p = list[i].name; *p && o + 7 < sizeof(name); p++) {
                if (*p == '"' || *p == '\\')
                    name[o++] = '\\';
                name[o++] = *p;
            }
            name[o] = 0;
            printf("{\"name\":\"%s\",\"group\":\"%s\",\"port\":%u,\"ctrl_port\":%u,"
                   "\"origin\":\"%s\",\"session\":\"%08x\",\"key\":\"%s\",\"passphrase\":%s,"
                   "\"known\":%d,\"name_contested\":%s}\n",
                   name, list[i].group, (unsigned)list[i].port, (unsigned)list[i].ctrl_port,
                   list[i].origin, list[i].session, f, list[i].sealed ? "true" : "false",
                   known_key(&list[i], known_file),
                   name_contested(list, n, i) ? "true" : "false");
        } else {
            describe(list, n, i, known_file, line, sizeof(line));
            printf("%s\n", line);
        }
    }
    uint64_t refused = mc_disco_listener_refused(l);
    if (!json && !n)
        fprintf(stderr, "mcview: no broadcast announced on this network in %.1f s\n", seconds);
    if (!json && refused)
        fprintf(stderr, "mcview: %llu announcements refused (damaged, or not validly signed)\n",
                (unsigned long long)refused);
    mc_disco_listener_destroy(l);
    return n ? 0 : 1;
}

/* Draws a line of text at row y, highlighted or not. */
static void line(SDL_Renderer *ren, TTF_Font *font, const char *text, int y, int hi)
{
    if (!font || !*text)
        return;
    SDL_Color fg = hi ? (SDL_Color){20, 20, 20, 255} : (SDL_Color){235, 235, 235, 255};
    SDL_Surface *s = TTF_RenderUTF8_Blended(font, text, fg);
    if (!s)
        return;
    int ow, oh;
    SDL_GetRendererOutputSize(ren, &ow, &oh);
    if (hi) {
        SDL_Rect band = {0, y - 4, ow, s->h + 8};
        SDL_SetRenderDrawColor(ren, 235, 235, 235, 255);
        SDL_RenderFillRect(ren, &band);
    }
    SDL_Texture *t = SDL_CreateTextureFromSurface(ren, s);
    SDL_Rect dst = {24, y, s->w, s->h};
    if (t) {
        SDL_RenderCopy(ren, t, NULL, &dst);
        SDL_DestroyTexture(t);
    }
    SDL_FreeSurface(s);
}

int mc_pick(SDL_Window *win, SDL_Renderer *ren, TTF_Font *font, const char *iface,
            const char *known_file, volatile sig_atomic_t *stop, mc_disco_entry *out,
            char *pass, size_t pass_cap)
{
    mc_disco_listener *l;
    int err = mc_disco_listener_create(iface, &l);
    if (err) {
        fprintf(stderr, "mcview: cannot listen for announcements on %s:%d: %s\n", MC_SAP_GROUP,
                MC_SAP_PORT, mc_strerror(err));
        return -1;
    }
    static mc_disco_entry list[MC_DISCO_MAX];
    mc_disco_entry pick; /* the one whose passphrase is asked (the list moves) */
    int n = 0, sel = 0, chose = -1, asking = 0, rc = 0, user_moved = 0;
    size_t plen = 0;
    pass[0] = 0;
    uint64_t start = mc_now_us();
    int row_h = font ? TTF_FontLineSkip(font) + 10 : 30;
    while (!*stop) {
        uint64_t now = mc_now_us();
        mc_disco_listener_poll(l, now);
        n = mc_disco_listener_list(l, list, MC_DISCO_MAX);
        if (sel >= n)
            sel = n ? n - 1 : 0;
        /* One broadcast alone: join it once the others had time to speak. */
        if (n == 1 && !user_moved && !asking && now - start >= SETTLE_US)
            chose = 0;
        SDL_Event e;
        while (SDL_PollEvent(&e)) {
            if (e.type == SDL_QUIT)
                goto quit;
            if (asking && e.type == SDL_TEXTINPUT) {
                size_t add = strlen(e.text.text);
                if (plen + add < pass_cap) {
                    memcpy(pass + plen, e.text.text, add + 1);
                    plen += add;
                }
                continue;
            }
            if (e.type == SDL_MOUSEBUTTONDOWN && !asking && n) {
                int i = (e.button.y - 2 * row_h) / row_h;
                if (i >= 0 && i < n) {
                    sel = i;
                    chose = i;
                }
                continue;
            }
            if (e.type != SDL_KEYDOWN)
                continue;
            SDL_Keycode k = e.key.keysym.sym;
            if (asking) {
                if (k == SDLK_ESCAPE) {
                    asking = 0;
                    chose = -1;
                    plen = 0;
                    pass[0] = 0;
                    SDL_StopTextInput();
                } else if (k == SDLK_BACKSPACE && plen) {
                    pass[--plen] = 0;
                } else if ((k == SDLK_RETURN || k == SDLK_KP_ENTER) && plen >= 8) {
                    SDL_StopTextInput();
                    *out = pick;
                    rc = 1;
                    goto done;
                }
                continue;
            }
            if (k == SDLK_q || k == SDLK_ESCAPE)
                goto quit;
            if (k == SDLK_UP && sel > 0)
                sel--, user_moved = 1;
            else if (k == SDLK_DOWN && sel + 1 < n)
                sel++, user_moved = 1;
            else if ((k == SDLK_RETURN || k == SDLK_KP_ENTER) && n)
                chose = sel;
        }
        if (chose >= 0 && chose < n && !asking) {
            if (!list[chose].sealed) {
                *out = list[chose];
                rc = 1;
                goto done;
            }
            asking = 1; /* a protected broadcast: its passphrase first */
            pick = list[chose];
            SDL_StartTextInput();
        }
        SDL_SetRenderDrawColor(ren, 0, 0, 0, 255);
        SDL_RenderClear(ren);
        char text[512];
        if (asking) {
            snprintf(text, sizeof(text), "'%s' is protected. Its passphrase (Enter to join, "
                     "Esc to go back):", pick.name);
            line(ren, font, text, row_h, 0);
            char stars[80];
            size_t s = plen < sizeof(stars) - 2 ? plen : sizeof(stars) - 2;
            memset(stars, '*', s);
            stars[s] = '_';
            stars[s + 1] = 0;
            line(ren, font, stars, 3 * row_h, 0);
            if (plen && plen < 8)
                line(ren, font, "(8 characters or more)", 5 * row_h, 0);
        } else {
            line(ren, font, n ? "Broadcasts on this network (arrow keys and Enter, or a click):"
                              : "Looking for broadcasts on this network ... "
                                "(mcview GROUP joins one directly)",
                 row_h / 2, 0);
            for (int i = 0; i < n; i++) {
                describe(list, n, i, known_file, text, sizeof(text));
                line(ren, font, text, (2 + i) * row_h, i == sel);
            }
        }
        SDL_RenderPresent(ren);
        char title[160];
        snprintf(title, sizeof(title), "mcview - %s", asking ? "passphrase"
                 : n ? "choose a broadcast" : "looking for broadcasts");
        SDL_SetWindowTitle(win, title);
        mc_disco_listener_wait(l, 50000);
    }
quit:
    rc = 0;
done:
    mc_disco_listener_destroy(l);
    return rc;
}
