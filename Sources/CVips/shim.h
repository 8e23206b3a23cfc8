// libvips, for server-made thumbnails (Sources/SluiceThumbnails). Its operations take their
// options as C variadic arguments, which Swift cannot call: these inline functions fix the
// options Sluice uses and give Swift plain signatures.
#ifndef SLUICE_CVIPS_SHIM_H
#define SLUICE_CVIPS_SHIM_H

#include <vips/vips.h>

static void sluice_vips_quiet(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

/// Starts libvips once per process and refuses the loaders it marks untrusted (ImageMagick,
/// and the like): every image here was uploaded by somebody. Returns 0 on success.
static inline int sluice_vips_start(void) {
    if (VIPS_INIT("sluice")) return -1;
    vips_block_untrusted_set(TRUE);
    // A damaged upload makes libvips warn on standard error; the request's reply says it instead.
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO, sluice_vips_quiet, NULL);
    // Thumbnails are made once and kept on disk: libvips' operation cache would only hold memory.
    vips_cache_set_max(0);
    return 0;
}

/// Decodes the image at `path` shrinking on load, fits it within size × size (never enlarged),
/// and encodes it as a JPEG without metadata. On success returns 0, and `*out` holds
/// `*out_length` bytes to release with `g_free`.
static inline int sluice_vips_thumbnail_jpeg(const char *path, int size, void **out, size_t *out_length) {
    VipsImage *thumbnail = NULL;
    if (vips_thumbnail(path, &thumbnail, size, "height", size, "size", VIPS_SIZE_DOWN, NULL)) return -1;
    VipsImage *flat = NULL;
    int failed;
    if (vips_image_hasalpha(thumbnail)) {
        // JPEG has no alpha: flatten on white, as a browser shows a transparent image on a page.
        // One value stands for every band, grey or colour.
        double white[1] = {255};
        VipsArrayDouble *background = vips_array_double_new(white, 1);
        failed = vips_flatten(thumbnail, &flat, "background", background, NULL);
        vips_area_unref(VIPS_AREA(background));
        g_object_unref(thumbnail);
        if (failed) return -1;
    } else {
        flat = thumbnail;
    }
    failed = vips_jpegsave_buffer(flat, out, out_length, "Q", 82, "strip", TRUE, NULL);
    g_object_unref(flat);
    return failed ? -1 : 0;
}

/// libvips' error text for this thread's last failure, then clears it. Copy it before the next call.
static inline const char *sluice_vips_take_error(void) {
    static _Thread_local char message[512];
    g_strlcpy(message, vips_error_buffer(), sizeof message);
    vips_error_clear();
    return message;
}

#endif
