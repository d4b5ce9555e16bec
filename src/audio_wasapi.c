/* What this Windows computer plays (src/audio_loopback.h): WASAPI's
 * shared-mode loopback of the default output, on a thread of its own.
 *
 * The stream is asked for 48 kHz stereo 16-bit, converted by Windows
 * (AUTOCONVERTPCM); where that is refused, the output's own mix format
 * (44.1 kHz float, often) is converted here (mc/pcm.h). The capture client
 * is polled every 5 ms: event-driven loopback needs Windows 10 1703.
 *
 * Loopback delivers nothing while nothing plays. The sender must go on
 * sending then (a viewer that hears nothing for a while is not a viewer
 * that lost the teacher), so after 40 ms without a packet this side hands
 * over silence, 10 ms behind the clock, and puts the sound back on the
 * clock when it returns (mc_pcm_gapfill).
 *
 * A new default output (headphones plugged in) invalidates the stream: it
 * is opened again on the new default, silence meanwhile.
 *
 * Where the output's loopback is refused (wine has none), an input that
 * carries what the computer plays is recorded instead, through the same
 * code: Realtek's "Stereo Mix", PulseAudio's "Monitor of ..." under wine. */
#define COBJMACROS
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <mmdeviceapi.h>
#include <audioclient.h>

#include "audio_loopback.h"
#include "mc/audio.h"
#include "mc/common.h"
#include "mc/pcm.h"
#include "mc/platform.h"

#ifndef AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM
#define AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM 0x80000000
#endif
#ifndef AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY
#define AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY 0x08000000
#endif

/* The interfaces' ids, here rather than from a library that may lack them. */
static const CLSID clsid_enumerator = {0xbcde0395, 0xe52f, 0x467c,
                                       {0x8e, 0x3d, 0xc4, 0x57, 0x92, 0x91, 0x69, 0x2e}};
static const IID iid_enumerator = {0xa95664d2, 0x9614, 0x4f35,
                                   {0xa7, 0x46, 0xde, 0x8d, 0xb6, 0x36, 0x17, 0xe6}};
static const IID iid_audio_client = {0x1cb9ad4c, 0xdbfa, 0x4c32,
                                     {0xb1, 0x78, 0xc2, 0xf5, 0x68, 0xa7, 0x03, 0xb2}};
static const IID iid_capture_client = {0xc8adbd64, 0xe71e, 0x48a0,
                                       {0xa4, 0xde, 0x18, 0x5c, 0x39, 0x5c, 0xd3, 0x17}};
static const GUID subtype_float = {0x00000003, 0x0000, 0x0010,
                                   {0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}};
static const PROPERTYKEY pkey_friendly_name = {
    {0xa45c254e, 0xdf1c, 0x4efd, {0x80, 0x20, 0x67, 0xd1, 0x46, 0xa8, 0x50, 0xe0}}, 14};

#define POLL_MS 5
#define BUFFER_HNS 1000000     /* the stream's buffer: 100 ms, in 100 ns units */
#define QUIET_US 40000         /* no packet for this long: nothing plays */
#define SILENCE_LAG_US 10000   /* silence is handed over this far behind the clock */
#define REOPEN_US 1000000      /* a lost output is looked for again each second */
#define SILENCE_BLOCK 480      /* frames of silence per call (10 ms) */

struct mc_loopback {
    mc_loopback_fn fn;
    void *ctx;
    mc_thread thread;
    atomic_int stop;
    /* opening, told to the opener */
    mc_mutex mu;
    mc_cond cv;
    int opened; /* 1 done, then `result` */
    int result;
    char *desc;
    size_t desc_cap;
    /* the thread's own */
    IMMDeviceEnumerator *en;
    IMMDevice *dev;
    IAudioClient *client;
    IAudioCaptureClient *cap;
    mc_pcm_conv conv;
    int16_t *out;
    size_t out_cap;
    mc_pcm_gapfill gap;  /* the stream kept on the clock */
    int via_input;       /* an input that carries the output, not its loopback */
};

static const int16_t zeros[2 * SILENCE_BLOCK];

static void release(void *p)
{
    if (p)
        IUnknown_Release((IUnknown *)p);
}

static void close_stream(mc_loopback *lb)
{
    if (lb->client)
        IAudioClient_Stop(lb->client);
    release(lb->cap);
    release(lb->client);
    release(lb->dev);
    lb->cap = NULL;
    lb->client = NULL;
    lb->dev = NULL;
    free(lb->out);
    lb->out = NULL;
}

static void output_name(IMMDevice *dev, char *name, size_t cap)
{
    IPropertyStore *props = NULL;
    snprintf(name, cap, "default output");
    if (FAILED(IMMDevice_OpenPropertyStore(dev, STGM_READ, &props)))
        return;
    PROPVARIANT pv;
    PropVariantInit(&pv);
    if (SUCCEEDED(IPropertyStore_GetValue(props, &pkey_friendly_name, &pv)) &&
        pv.vt == VT_LPWSTR && pv.pwszVal &&
        !WideCharToMultiByte(CP_UTF8, 0, pv.pwszVal, -1, name, (int)cap, NULL, NULL))
        snprintf(name, cap, "default output");
    PropVariantClear(&pv);
    IPropertyStore_Release(props);
}

/* The mix format's layout for the converter. */
static int mix_layout(const WAVEFORMATEX *wf, mc_pcm_conv *conv)
{
    int is_float = wf->wFormatTag == WAVE_FORMAT_IEEE_FLOAT;
    if (wf->wFormatTag == WAVE_FORMAT_EXTENSIBLE && wf->cbSize >= 22) {
        const WAVEFORMATEXTENSIBLE *ext = (const WAVEFORMATEXTENSIBLE *)wf;
        is_float = !memcmp(&ext->SubFormat, &subtype_float, sizeof(GUID));
    } else if (wf->wFormatTag != WAVE_FORMAT_PCM && !is_float) {
        return MC_EINVAL;
    }
    return mc_pcm_conv_init(conv, wf->wBitsPerSample, is_float, wf->nChannels, wf->nSamplesPerSec);
}

/* Opens a stream on lb->dev (named `name`): the loopback of an output, or
 * an input. On failure, `why` says why and lb->dev is released. */
static int open_endpoint(mc_loopback *lb, int loopback, const char *name, char *why, size_t why_cap)
{
    DWORD flags = loopback ? AUDCLNT_STREAMFLAGS_LOOPBACK : 0;
    HRESULT hr = IMMDevice_Activate(lb->dev, &iid_audio_client, CLSCTX_ALL, NULL,
                                    (void **)&lb->client);
    if (FAILED(hr)) {
        snprintf(why, why_cap, "\"%s\" cannot be opened (0x%08lx)", name, (unsigned long)hr);
        close_stream(lb);
        return MC_EAUDIO;
    }
    /* 48 kHz stereo 16-bit, converted by Windows; else the mix format. */
    WAVEFORMATEX want = {.wFormatTag = WAVE_FORMAT_PCM, .nChannels = 2,
                         .nSamplesPerSec = MC_AUDIO_RATE, .wBitsPerSample = 16,
                         .nBlockAlign = 4, .nAvgBytesPerSec = MC_AUDIO_RATE * 4};
    hr = IAudioClient_Initialize(lb->client, AUDCLNT_SHAREMODE_SHARED,
                                 flags | AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM |
                                     AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY,
                                 BUFFER_HNS, 0, &want, NULL);
    if (SUCCEEDED(hr)) {
        mc_pcm_conv_init(&lb->conv, 16, 0, 2, MC_AUDIO_RATE);
    } else {
        WAVEFORMATEX *mix = NULL;
        release(lb->client);
        lb->client = NULL;
        hr = IMMDevice_Activate(lb->dev, &iid_audio_client, CLSCTX_ALL, NULL, (void **)&lb->client);
        if (SUCCEEDED(hr))
            hr = IAudioClient_GetMixFormat(lb->client, &mix);
        if (SUCCEEDED(hr) && mix_layout(mix, &lb->conv)) {
            snprintf(why, why_cap, "\"%s\" mixes in a format that cannot be read (format %u, "
                     "%u bits, %u channels, %lu Hz)", name, mix->wFormatTag, mix->wBitsPerSample,
                     mix->nChannels, (unsigned long)mix->nSamplesPerSec);
            CoTaskMemFree(mix);
            close_stream(lb);
            return MC_EAUDIO;
        }
        if (SUCCEEDED(hr))
            hr = IAudioClient_Initialize(lb->client, AUDCLNT_SHAREMODE_SHARED, flags, BUFFER_HNS,
                                         0, mix, NULL);
        CoTaskMemFree(mix);
    }
    UINT32 buffer_frames = 0;
    if (SUCCEEDED(hr))
        hr = IAudioClient_GetBufferSize(lb->client, &buffer_frames);
    if (SUCCEEDED(hr))
        hr = IAudioClient_GetService(lb->client, &iid_capture_client, (void **)&lb->cap);
    if (SUCCEEDED(hr))
        hr = IAudioClient_Start(lb->client);
    /* room for a whole buffer's packets, converted */
    lb->out_cap = mc_pcm_out_max(&lb->conv, buffer_frames ? buffer_frames : 48000) + 64;
    lb->out = FAILED(hr) ? NULL : malloc(lb->out_cap * 4);
    if (FAILED(hr) || !lb->out) {
        snprintf(why, why_cap, "\"%s\" cannot be recorded (0x%08lx%s)", name, (unsigned long)hr,
                 hr == AUDCLNT_E_WRONG_ENDPOINT_TYPE ? ": this system has no loopback" : "");
        close_stream(lb);
        return MC_EAUDIO;
    }
    return 0;
}

/* An input that carries what the computer plays: Realtek's "Stereo Mix",
 * Creative's "What U Hear", PulseAudio's "Monitor of ..." (wine). Leaves
 * it in lb->dev; 0 if there is none. */
static int find_mix_input(mc_loopback *lb, char *name, size_t cap)
{
    static const char *const names[] = {"Stereo Mix", "What U Hear", "Monitor of "};
    IMMDeviceCollection *all = NULL;
    UINT count = 0;
    if (FAILED(IMMDeviceEnumerator_EnumAudioEndpoints(lb->en, eCapture, DEVICE_STATE_ACTIVE, &all)))
        return 0;
    IMMDeviceCollection_GetCount(all, &count);
    for (UINT i = 0; i < count && !lb->dev; i++) {
        IMMDevice *d = NULL;
        if (FAILED(IMMDeviceCollection_Item(all, i, &d)))
            continue;
        output_name(d, name, cap);
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !lb->dev; k++)
            if (strstr(name, names[k]))
                lb->dev = d;
        if (!lb->dev)
            IMMDevice_Release(d);
    }
    IMMDeviceCollection_Release(all);
    return lb->dev != NULL;
}

/* What the computer plays: the default output's loopback, else an input
 * that carries it. `name` says which; on failure `why` says why. */
static int open_stream(mc_loopback *lb, char *name, size_t name_cap, char *why, size_t why_cap)
{
    char first[192];
    HRESULT hr = IMMDeviceEnumerator_GetDefaultAudioEndpoint(lb->en, eRender, eConsole, &lb->dev);
    if (FAILED(hr)) {
        snprintf(first, sizeof(first), "no sound output is enabled (0x%08lx)", (unsigned long)hr);
    } else {
        output_name(lb->dev, name, name_cap);
        if (open_endpoint(lb, 1, name, first, sizeof(first)) == 0) {
            lb->via_input = 0;
            return 0;
        }
    }
    char mix[128];
    if (!find_mix_input(lb, mix, sizeof(mix))) {
        snprintf(why, why_cap, "%s, and no input carries what it plays (such as \"Stereo Mix\")",
                 first);
        return MC_EAUDIO;
    }
    char second[192];
    if (open_endpoint(lb, 0, mix, second, sizeof(second))) {
        snprintf(why, why_cap, "%s; %s", first, second);
        return MC_EAUDIO;
    }
    if (!lb->via_input)
        mc_log(0, "mcshare: the output's loopback cannot be used: %s; recording the input \"%s\", "
               "which carries what this computer plays", first, mix);
    lb->via_input = 1;
    snprintf(name, name_cap, "%s", mix);
    return 0;
}

static void hand_silence(mc_loopback *lb, size_t n)
{
    while (n > 0) {
        size_t k = n > SILENCE_BLOCK ? SILENCE_BLOCK : n;
        lb->fn(lb->ctx, zeros, k);
        n -= k;
    }
}

/* A packet's converted frames, placed on the clock (mc_pcm_gapfill). */
static void hand_over(mc_loopback *lb, const int16_t *s, size_t n, uint64_t now)
{
    size_t silence, cut = mc_pcm_gapfill_packet(&lb->gap, n, now, &silence);
    hand_silence(lb, silence);
    if (n > cut)
        lb->fn(lb->ctx, s + 2 * cut, n - cut);
}

/* Takes every packet waiting, and hands them over as one (placed on the
 * clock as one when they end a pause). Returns the HRESULT that stopped it. */
static HRESULT drain(mc_loopback *lb)
{
    UINT32 size = 0;
    size_t got = 0;
    HRESULT hr;
    while (SUCCEEDED(hr = IAudioCaptureClient_GetNextPacketSize(lb->cap, &size)) && size > 0) {
        BYTE *data = NULL;
        UINT32 frames = 0;
        DWORD flags = 0;
        hr = IAudioCaptureClient_GetBuffer(lb->cap, &data, &frames, &flags, NULL, NULL);
        if (FAILED(hr))
            break;
        if (mc_pcm_out_max(&lb->conv, frames) > lb->out_cap - got) { /* full: hand over */
            hand_over(lb, lb->out, got, mc_now_us());
            got = 0;
        }
        size_t n = mc_pcm_convert(&lb->conv, data, frames, lb->out + 2 * got, lb->out_cap - got);
        if (flags & AUDCLNT_BUFFERFLAGS_SILENT)
            memset(lb->out + 2 * got, 0, n * 4);
        got += n;
        IAudioCaptureClient_ReleaseBuffer(lb->cap, frames);
    }
    if (got)
        hand_over(lb, lb->out, got, mc_now_us());
    return hr;
}

static void tell_opener(mc_loopback *lb, int result)
{
    mc_mutex_lock(&lb->mu);
    lb->opened = 1;
    lb->result = result;
    mc_cond_signal(&lb->cv);
    mc_mutex_unlock(&lb->mu);
}

static void *loopback_main(void *arg)
{
    mc_loopback *lb = arg;
    char name[128], why[256];
    HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    int com = SUCCEEDED(hr);
    if (com)
        hr = CoCreateInstance(&clsid_enumerator, NULL, CLSCTX_ALL, &iid_enumerator,
                              (void **)&lb->en);
    if (FAILED(hr)) {
        mc_log(0, "mcshare: Windows' sound system cannot be used (0x%08lx)", (unsigned long)hr);
        tell_opener(lb, MC_EAUDIO);
        if (com)
            CoUninitialize();
        return NULL;
    }
    if (open_stream(lb, name, sizeof(name), why, sizeof(why))) {
        mc_log(0, "mcshare: cannot record what this computer plays: %s", why);
        release(lb->en);
        CoUninitialize();
        tell_opener(lb, MC_EAUDIO);
        return NULL;
    }
    snprintf(lb->desc, lb->desc_cap, "\"%s\" (%s)", name,
             lb->via_input ? "an input that carries it" : "WASAPI loopback");
    mc_pcm_gapfill_init(&lb->gap, mc_now_us(), QUIET_US, SILENCE_LAG_US);
    tell_opener(lb, 0);

    uint64_t next_open = 0;
    while (!atomic_load(&lb->stop)) {
        Sleep(POLL_MS);
        uint64_t now = mc_now_us();
        if (lb->cap) {
            hr = drain(lb);
            if (FAILED(hr)) {
                mc_log(0, "mcshare: the sound output went away (0x%08lx%s); recording the new "
                       "default output, silence meanwhile", (unsigned long)hr,
                       hr == AUDCLNT_E_DEVICE_INVALIDATED ? ": it changed" : "");
                close_stream(lb);
                next_open = now;
            }
        }
        if (!lb->cap && now >= next_open) {
            if (open_stream(lb, name, sizeof(name), why, sizeof(why)) == 0)
                mc_log(0, "mcshare: now recording what \"%s\" plays", name);
            next_open = now + REOPEN_US;
        }
        hand_silence(lb, mc_pcm_gapfill_idle(&lb->gap, mc_now_us()));
    }
    close_stream(lb);
    release(lb->en);
    CoUninitialize();
    return NULL;
}

int mc_loopback_open(mc_loopback_fn fn, void *ctx, char *desc, size_t desc_cap,
                     mc_loopback **out)
{
    *out = NULL;
    mc_loopback *lb = calloc(1, sizeof(*lb));
    if (!lb)
        return MC_ENOMEM;
    lb->fn = fn;
    lb->ctx = ctx;
    lb->desc = desc;
    lb->desc_cap = desc_cap;
    mc_mutex_init(&lb->mu);
    mc_cond_init(&lb->cv);
    if (mc_thread_start(&lb->thread, loopback_main, lb)) {
        mc_cond_destroy(&lb->cv);
        mc_mutex_destroy(&lb->mu);
        free(lb);
        return MC_ENOMEM;
    }
    mc_mutex_lock(&lb->mu);
    while (!lb->opened)
        mc_cond_wait_until(&lb->cv, &lb->mu, mc_now_us() + 1000000u);
    int result = lb->result;
    mc_mutex_unlock(&lb->mu);
    if (result) { /* the thread has ended */
        mc_loopback_close(lb);
        return result;
    }
    *out = lb;
    return 0;
}

void mc_loopback_close(mc_loopback *lb)
{
    if (!lb)
        return;
    atomic_store(&lb->stop, 1);
    mc_thread_join(lb->thread);
    mc_cond_destroy(&lb->cv);
    mc_mutex_destroy(&lb->mu);
    free(lb);
}
