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

/// Reads the image at `path` as a binary mask, as LabelMe's Masks/*.png are meant: a pixel is
/// set when any of its bands is not zero. Refuses images of more than `max_pixels` pixels
/// before decoding them. On success returns 0, `*width` × `*height` bytes (0 or 255, row by
/// row) in `*out`, to release with `g_free`.
static inline int sluice_vips_mask(const char *path, long max_pixels, int *width, int *height, void **out, size_t *out_length) {
    VipsImage *image = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!image) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    if ((long)*width * (long)*height > max_pixels) {
        vips_error("sluice", "the mask is %d × %d pixels, more than %ld", *width, *height, max_pixels);
        g_object_unref(image);
        return -1;
    }
    VipsImage *set = NULL;
    int failed = vips_relational_const1(image, &set, VIPS_OPERATION_RELATIONAL_NOTEQ, 0.0, NULL);
    g_object_unref(image);
    if (failed) return -1;
    VipsImage *any = NULL;
    if (vips_image_get_bands(set) > 1) {
        failed = vips_bandbool(set, &any, VIPS_OPERATION_BOOLEAN_OR, NULL);
        g_object_unref(set);
        if (failed) return -1;
    } else {
        any = set;
    }
    *out = vips_image_write_to_memory(any, out_length);
    g_object_unref(any);
    return *out ? 0 : -1;
}

/// Reads the image at `path` as 8-bit samples for an index image (Pascal VOC's
/// SegmentationObject/*.png): one band for a greyscale image (its values), three for colour.
/// libvips 8.14's PNG loader always expands a palette PNG to RGB(A) and has no option to keep
/// the indices, so a palette image comes back as its colours; an alpha band is dropped. Refuses
/// images of more than `max_pixels` pixels before decoding them. On success returns 0,
/// `*width` × `*height` × `*bands` bytes (row by row, bands interleaved) in `*out`, to release
/// with `g_free`.
static inline int sluice_vips_samples(const char *path, long max_pixels, int *width, int *height, int *bands, void **out, size_t *out_length) {
    VipsImage *image = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!image) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    if ((long)*width * (long)*height > max_pixels) {
        vips_error("sluice", "the image is %d × %d pixels, more than %ld", *width, *height, max_pixels);
        g_object_unref(image);
        return -1;
    }
    if (vips_image_get_format(image) != VIPS_FORMAT_UCHAR) {
        vips_error("sluice", "expected 8 bits a sample, the image has %d", vips_format_sizeof(vips_image_get_format(image)) * 8);
        g_object_unref(image);
        return -1;
    }
    int count = vips_image_get_bands(image);
    // Grey + alpha keeps its grey band, RGB + alpha its colour; anything else is not an index image.
    int keep = count <= 2 ? 1 : 3;
    if (count > 4) {
        vips_error("sluice", "expected a grey or RGB image, the image has %d bands", count);
        g_object_unref(image);
        return -1;
    }
    VipsImage *kept = NULL;
    if (count != keep) {
        int failed = vips_extract_band(image, &kept, 0, "n", keep, NULL);
        g_object_unref(image);
        if (failed) return -1;
    } else {
        kept = image;
    }
    *bands = keep;
    *out = vips_image_write_to_memory(kept, out_length);
    g_object_unref(kept);
    return *out ? 0 : -1;
}

/// libvips' error text for this thread's last failure, then clears it. Copy it before the next call.
static inline const char *sluice_vips_take_error(void) {
    static _Thread_local char message[512];
    g_strlcpy(message, vips_error_buffer(), sizeof message);
    vips_error_clear();
    return message;
}

#endif
