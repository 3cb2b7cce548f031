/* The reference for the MJPEG differential target (src/mjpeg.rs): libjpeg's own decode, through
 * its raw-data interface with the fast integer IDCT (what libmst asks TurboJPEG and libjpeg
 * for), to I420 by the rule libmst documents (chroma box-averaged down to 4:2:0, rounding half
 * up, edge samples repeated; greyscale gets chroma 128), and libjpeg's verdict: failed (a fatal
 * error anywhere, the end of image included), damaged (a warning anywhere) or clean. One
 * decompressor serves a whole stream, so tables a frame leaves out come from the frames
 * before it, as in one libjpeg decoder. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

enum {
    REF_CLEAN = 0,
    REF_DAMAGED = 1,
    REF_FAILED = -1,
    REF_UNSUPPORTED = -2, /* a colour space or subsampling libmst says it does not decode */
    REF_TOO_LARGE = -3,   /* more pixels than the caller allows: not decoded */
};

/* TJSAMP_* numbering, as libmst's jpeg.rs uses it. */
enum { SUB_444 = 0, SUB_422 = 1, SUB_420 = 2, SUB_GRAY = 3, SUB_440 = 4 };

struct ref_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int warnings;
};

typedef struct {
    struct jpeg_decompress_struct c;
    struct ref_err err;
    uint8_t *comp[3]; /* raw component planes, reused */
    size_t comp_cap[3];
    uint8_t *out; /* the I420 result, reused */
    size_t out_cap;
} Ref;

static void on_error(j_common_ptr c) {
    struct ref_err *e = (struct ref_err *)c->err;
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr c, int level) {
    struct ref_err *e = (struct ref_err *)c->err;
    if (level < 0) e->warnings++;
}

void *mst_fuzz_ref_new(void) {
    Ref *volatile r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->c.err = jpeg_std_error(&r->err.pub);
    r->err.pub.error_exit = on_error;
    r->err.pub.emit_message = on_message;
    if (setjmp(r->err.jump)) {
        free(r);
        return NULL;
    }
    jpeg_create_decompress(&r->c);
    return r;
}

void mst_fuzz_ref_free(void *p) {
    Ref *r = p;
    if (!r) return;
    jpeg_destroy_decompress(&r->c);
    for (int i = 0; i < 3; i++) free(r->comp[i]);
    free(r->out);
    free(r);
}

static int grow(uint8_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return 1;
    uint8_t *b = realloc(*buf, n);
    if (!b) return 0;
    *buf = b;
    *cap = n;
    return 1;
}

static int subsampling(const struct jpeg_decompress_struct *c) {
    if (c->jpeg_color_space == JCS_GRAYSCALE && c->num_components == 1) return SUB_GRAY;
    if (c->jpeg_color_space != JCS_YCbCr || c->num_components != 3) return -1;
    const jpeg_component_info *k = c->comp_info;
    if (k[1].h_samp_factor != 1 || k[1].v_samp_factor != 1 || k[2].h_samp_factor != 1 || k[2].v_samp_factor != 1)
        return -1;
    int h = k[0].h_samp_factor, v = k[0].v_samp_factor;
    if (h == 1 && v == 1) return SUB_444;
    if (h == 2 && v == 1) return SUB_422;
    if (h == 2 && v == 2) return SUB_420;
    if (h == 1 && v == 2) return SUB_440;
    return -1;
}

/* Box-average a pw x ph plane to cw x ch, rounding half up, clamping at the edges. */
static void down(const uint8_t *src, size_t stride, int pw, int ph, uint8_t *dst, int cw, int ch) {
    int fx = pw > cw ? 2 : 1, fy = ph > ch ? 2 : 1;
    for (int y = 0; y < ch; y++) {
        int y0 = y * fy < ph - 1 ? y * fy : ph - 1;
        int y1 = y * fy + fy - 1 < ph - 1 ? y * fy + fy - 1 : ph - 1;
        for (int x = 0; x < cw; x++) {
            int x0 = x * fx < pw - 1 ? x * fx : pw - 1;
            int x1 = x * fx + fx - 1 < pw - 1 ? x * fx + fx - 1 : pw - 1;
            unsigned s = src[y0 * stride + x0] + src[y0 * stride + x1] + src[y1 * stride + x0] + src[y1 * stride + x1];
            dst[(size_t)y * cw + x] = (uint8_t)((s + 2) / 4);
        }
    }
}

/* Decodes one frame. On REF_CLEAN or REF_DAMAGED, *out is w*h luma then cw*ch U and V
 * (cw = ceil(w/2), ch = ceil(h/2)), owned by the decoder until its next call. w, h and sub
 * are set once the header was read (REF_UNSUPPORTED, REF_TOO_LARGE and later). */
int mst_fuzz_ref_decode(void *p, const uint8_t *data, size_t len, size_t max_pixels, int *w, int *h, int *sub,
                        const uint8_t **out) {
    Ref *r = p;
    struct jpeg_decompress_struct *c = &r->c;
    r->err.warnings = 0;
    *w = *h = 0;
    *sub = -1;
    *out = NULL;
    if (setjmp(r->err.jump)) {
        jpeg_abort_decompress(c);
        return REF_FAILED;
    }
    jpeg_mem_src(c, data, (unsigned long)len);
    jpeg_read_header(c, TRUE);
    *w = (int)c->image_width;
    *h = (int)c->image_height;
    *sub = subsampling(c);
    if (*sub < 0) {
        jpeg_abort_decompress(c);
        return REF_UNSUPPORTED;
    }
    if ((size_t)*w * (size_t)*h > max_pixels) {
        jpeg_abort_decompress(c);
        return REF_TOO_LARGE;
    }
    c->raw_data_out = TRUE;
    c->do_fancy_upsampling = FALSE;
    c->dct_method = JDCT_IFAST;
    jpeg_start_decompress(c);
    int nc = c->num_components;
    size_t mcus_across = (c->image_width + c->max_h_samp_factor * DCTSIZE - 1) / (c->max_h_samp_factor * DCTSIZE);
    size_t stride[3], rows[3];
    JSAMPROW *ptrs[3];
    for (int i = 0; i < nc; i++) {
        jpeg_component_info *k = &c->comp_info[i];
        stride[i] = mcus_across * k->h_samp_factor * DCTSIZE;
        rows[i] = (size_t)c->total_iMCU_rows * k->v_samp_factor * DCTSIZE;
        if (!grow(&r->comp[i], &r->comp_cap[i], stride[i] * rows[i])) {
            jpeg_abort_decompress(c);
            return REF_TOO_LARGE;
        }
        ptrs[i] = malloc(sizeof(JSAMPROW) * (size_t)k->v_samp_factor * DCTSIZE);
        if (!ptrs[i]) {
            for (int j = 0; j < i; j++) free(ptrs[j]);
            jpeg_abort_decompress(c);
            return REF_TOO_LARGE;
        }
    }
    /* The row pointer arrays are freed on both paths, a longjmp out of the reads included. */
    if (setjmp(r->err.jump)) {
        for (int i = 0; i < nc; i++) free(ptrs[i]);
        jpeg_abort_decompress(c);
        return REF_FAILED;
    }
    JSAMPARRAY planes[3] = {ptrs[0], nc > 1 ? ptrs[1] : NULL, nc > 2 ? ptrs[2] : NULL};
    for (JDIMENSION imcu = 0; imcu < c->total_iMCU_rows; imcu++) {
        for (int i = 0; i < nc; i++) {
            int n = c->comp_info[i].v_samp_factor * DCTSIZE;
            for (int y = 0; y < n; y++) ptrs[i][y] = r->comp[i] + ((size_t)imcu * n + y) * stride[i];
        }
        jpeg_read_raw_data(c, planes, (JDIMENSION)(c->max_v_samp_factor * DCTSIZE));
    }
    jpeg_finish_decompress(c);
    for (int i = 0; i < nc; i++) free(ptrs[i]);

    size_t W = (size_t)*w, H = (size_t)*h, cw = (W + 1) / 2, ch = (H + 1) / 2;
    if (!grow(&r->out, &r->out_cap, W * H + 2 * cw * ch)) return REF_TOO_LARGE;
    for (size_t y = 0; y < H; y++) memcpy(r->out + y * W, r->comp[0] + y * stride[0], W);
    uint8_t *u = r->out + W * H, *v = u + cw * ch;
    if (*sub == SUB_GRAY) {
        memset(u, 128, 2 * cw * ch);
    } else {
        int pw = (*sub == SUB_420 || *sub == SUB_422) ? (int)cw : (int)W;
        int ph = (*sub == SUB_420 || *sub == SUB_440) ? (int)ch : (int)H;
        down(r->comp[1], stride[1], pw, ph, u, (int)cw, (int)ch);
        down(r->comp[2], stride[2], pw, ph, v, (int)cw, (int)ch);
    }
    *out = r->out;
    return r->err.warnings ? REF_DAMAGED : REF_CLEAN;
}
