/*
 * 4:2:2 and 4:2:0 MJPEG straight to I420 through libjpeg's raw-data interface, a strip of
 * one MCU row (8 or 16 luma rows) at a time: luma decodes into the frame's own rows; 4:2:0
 * chroma into the frame's own rows too, 4:2:2 chroma into an 8-row strip that is averaged in
 * pairs into the frame's I420 chroma while it is still in cache. TurboJPEG (mod.rs) can
 * only decode a whole 4:2:2 frame at once, whose chroma then makes a second pass over two
 * full-size planes; this is how libyuv's MJPGToI420 avoids that, without its luma copy.
 * Both subsamplings take the same route so that both can be fed coefficients Huffman-decoded
 * on two threads (scan.rs) and split into a top and a bottom half.
 *
 * libjpeg (libjpeg-turbo; libjpeg.so.62 on Debian) is loaded with dlopen, like libturbojpeg in
 * mod.rs, so it stays optional at run time; jpeglib.h is needed to build this file (build.rs
 * fails, saying what to install, without it).
 * jpeg_CreateDecompress checks the structure size and library version against the header,
 * so a mismatched library is an error, not memory corruption.
 *
 * libjpeg reports fatal errors through error_exit, which must not return: it longjmps back
 * here, so no Rust frame is ever crossed. Warnings (corrupt data the decoder worked around)
 * are counted silently, as TurboJPEG reports them.
 *
 * One decoder is used by one thread at a time; mst_jpeg_raw_load may be called from any.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct api {
    struct jpeg_error_mgr *(*std_error)(struct jpeg_error_mgr *);
    void (*create)(j_decompress_ptr, int, size_t);
    void (*destroy)(j_decompress_ptr);
    void (*mem_src)(j_decompress_ptr, const unsigned char *, unsigned long);
    int (*read_header)(j_decompress_ptr, boolean);
    boolean (*start)(j_decompress_ptr);
    JDIMENSION (*read_raw)(j_decompress_ptr, JSAMPIMAGE, JDIMENSION);
    JDIMENSION (*read_scanlines)(j_decompress_ptr, JSAMPARRAY, JDIMENSION);
    boolean (*finish)(j_decompress_ptr);
    void (*abort)(j_decompress_ptr);
    JQUANT_TBL *(*alloc_quant)(j_common_ptr);
    JHUFF_TBL *(*alloc_huff)(j_common_ptr);
};

static struct api api;
static int api_state; /* 0: not tried, 1: loaded, -1: unavailable */
static pthread_once_t api_once = PTHREAD_ONCE_INIT;

/* The soname that goes with the jpeglib.h this file was built against (libjpeg-turbo builds
 * the libjpeg 6b, 7 or 8 ABI; Debian ships 6b, some distributions 8). */
#if JPEG_LIB_VERSION >= 80
#define LIBJPEG "libjpeg.so.8"
#elif JPEG_LIB_VERSION >= 70
#define LIBJPEG "libjpeg.so.7"
#else
#define LIBJPEG "libjpeg.so.62"
#endif

static void load_once(void) {
    void *lib = dlopen(LIBJPEG, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        api_state = -1;
        return;
    }
#define SYM(field, name)                                   \
    do {                                                   \
        *(void **)&api.field = dlsym(lib, name);           \
        if (!api.field) {                                  \
            api_state = -1;                                \
            return;                                        \
        }                                                  \
    } while (0)
    SYM(std_error, "jpeg_std_error");
    SYM(create, "jpeg_CreateDecompress");
    SYM(destroy, "jpeg_destroy_decompress");
    SYM(mem_src, "jpeg_mem_src");
    SYM(read_header, "jpeg_read_header");
    SYM(start, "jpeg_start_decompress");
    SYM(read_raw, "jpeg_read_raw_data");
    SYM(read_scanlines, "jpeg_read_scanlines");
    SYM(finish, "jpeg_finish_decompress");
    SYM(abort, "jpeg_abort_decompress");
    SYM(alloc_quant, "jpeg_alloc_quant_table");
    SYM(alloc_huff, "jpeg_alloc_huff_table");
#undef SYM
    api_state = 1;
}

/* 1 when LIBJPEG and every function this file calls are there, else 0. */
int mst_jpeg_raw_load(void) {
    pthread_once(&api_once, load_once);
    return api_state == 1;
}

struct err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int warnings;
    char message[JMSG_LENGTH_MAX];
};

/*
 * libjpeg's entropy decoder module, as jpegint.h declares it (unchanged since libjpeg 6b;
 * jpeglib.h leaves the type incomplete). The fed decode replaces decode_mcu, libjpeg's own
 * extension point for entropy decoders, with one that hands over coefficients Huffman-decoded
 * by scan.rs; libjpeg does everything else (dequantization, IDCT, output) as usual.
 */
struct jpeg_entropy_decoder {
    void (*start_pass)(j_decompress_ptr cinfo);
    boolean (*decode_mcu)(j_decompress_ptr cinfo, JBLOCKROW *MCU_data);
    boolean insufficient_data;
};

/* Fills the `n` zeroed blocks of the next MCU; returns 0 when it has none (then the decode
 * fails with RAW_ERROR). */
typedef int (*mst_jpeg_feed)(void *ctx, int16_t **blocks, int n);

struct mst_jpeg_raw {
    /* First, so the decode_mcu hook can find the rest from its cinfo. */
    struct jpeg_decompress_struct cinfo;
    struct err err;
    mst_jpeg_feed feed;
    void *feed_ctx;
    /* Strip rows: luma (when it cannot go straight to the frame: 8 or 16 rows), U, V (8
     * rows each, when they cannot); then one spare row for the rows past the last wanted. */
    unsigned char *strip;
    size_t strip_len;
};

static void on_error(j_common_ptr cinfo) {
    struct err *e = (struct err *)cinfo->err;
    e->pub.format_message(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    struct err *e = (struct err *)cinfo->err;
    if (level < 0) {
        if (e->warnings++ == 0)
            e->pub.format_message(cinfo, e->message);
    }
}

static void no_output(j_common_ptr cinfo) { (void)cinfo; }


/* A decoder, or NULL (no library, no memory, or a library that does not match jpeglib.h). */
struct mst_jpeg_raw *mst_jpeg_raw_new(void) {
    if (!mst_jpeg_raw_load())
        return NULL;
    struct mst_jpeg_raw *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cinfo.err = api.std_error(&d->err.pub);
    d->err.pub.error_exit = on_error;
    d->err.pub.emit_message = on_message;
    d->err.pub.output_message = no_output;
    if (setjmp(d->err.jump)) {
        free(d);
        return NULL;
    }
    api.create(&d->cinfo, JPEG_LIB_VERSION, sizeof d->cinfo);
    return d;
}

void mst_jpeg_raw_free(struct mst_jpeg_raw *d) {
    if (!d)
        return;
    if (setjmp(d->err.jump) == 0)
        api.destroy(&d->cinfo);
    free(d->strip);
    free(d);
}

/* The last error or first warning's text (valid until the next decode). */
const char *mst_jpeg_raw_message(const struct mst_jpeg_raw *d) { return d->err.message; }

enum { RAW_OK = 0, RAW_DAMAGED = 1, RAW_ERROR = -1, RAW_NOT_TAKEN = -2 };

/*
 * Gives `dst` the quantization and Huffman tables `src` holds. libjpeg keeps a decoder's tables
 * from frame to frame (a frame without DQT or DHT decodes with the last ones it saw), and the
 * decoder for the bottom of a split frame sees only the frames that are split: before each, it
 * takes the history of the decoder that sees every frame, so both halves decode with the
 * tables one decode would. A slot empty in `src` is left as it is in `dst` (it is then empty
 * there too: `dst` only ever reads headers `src` read as well). Returns RAW_OK, or RAW_ERROR
 * when a table cannot be allocated (the message says so).
 */
int mst_jpeg_raw_copy_tables(struct mst_jpeg_raw *dst, const struct mst_jpeg_raw *src) {
    j_decompress_ptr c = &dst->cinfo;
    const struct jpeg_decompress_struct *s = &src->cinfo;
    if (setjmp(dst->err.jump))
        return RAW_ERROR;
    for (int i = 0; i < NUM_QUANT_TBLS; i++) {
        if (!s->quant_tbl_ptrs[i])
            continue;
        if (!c->quant_tbl_ptrs[i])
            c->quant_tbl_ptrs[i] = api.alloc_quant((j_common_ptr)c);
        *c->quant_tbl_ptrs[i] = *s->quant_tbl_ptrs[i];
    }
    for (int i = 0; i < NUM_HUFF_TBLS; i++) {
        if (s->dc_huff_tbl_ptrs[i]) {
            if (!c->dc_huff_tbl_ptrs[i])
                c->dc_huff_tbl_ptrs[i] = api.alloc_huff((j_common_ptr)c);
            *c->dc_huff_tbl_ptrs[i] = *s->dc_huff_tbl_ptrs[i];
        }
        if (s->ac_huff_tbl_ptrs[i]) {
            if (!c->ac_huff_tbl_ptrs[i])
                c->ac_huff_tbl_ptrs[i] = api.alloc_huff((j_common_ptr)c);
            *c->ac_huff_tbl_ptrs[i] = *s->ac_huff_tbl_ptrs[i];
        }
    }
    return RAW_OK;
}

/* Makes the decoder's scratch at least `need` bytes (kept for later frames). On failure the
 * decode is aborted and the message names the `what` it was for. */
static int grow_strip(struct mst_jpeg_raw *d, j_decompress_ptr c, size_t need, const char *what) {
    if (d->strip_len >= need) return 1;
    unsigned char *p = realloc(d->strip, need);
    if (!p) {
        api.abort(c);
        snprintf(d->err.message, sizeof d->err.message, "out of memory for a %zu-byte %s", need, what);
        return 0;
    }
    d->strip = p;
    d->strip_len = need;
    return 1;
}

static boolean fed_mcu(j_decompress_ptr c, JBLOCKROW *data) {
    struct mst_jpeg_raw *d = (struct mst_jpeg_raw *)c;
    int16_t *blocks[D_MAX_BLOCKS_IN_MCU];
    int n = c->blocks_in_MCU;
    for (int i = 0; i < n; i++)
        blocks[i] = (int16_t *)data[i];
    if (!d->feed(d->feed_ctx, blocks, n)) {
        snprintf(d->err.message, sizeof d->err.message, "the coefficients ran out");
        longjmp(d->err.jump, 1);
    }
    return TRUE;
}

/*
 * Reads `jpeg`'s header into `d` (the caller has set d->err.jump): the luma's vertical
 * sampling factor, 1 (4:2:2) or 2 (4:2:0), when it is a YCbCr 4:2:2 or 4:2:0 frame of 8-bit
 * samples, w x h, and then sets raw-data output as libyuv's MJPGToI420 decodes (fast IDCT);
 * 0 otherwise (the caller aborts).
 */
static int read_header_strips(struct mst_jpeg_raw *d, const uint8_t *jpeg, size_t len, size_t w, size_t h) {
    j_decompress_ptr c = &d->cinfo;
    api.mem_src(c, jpeg, (unsigned long)len);
    api.read_header(c, TRUE);
    jpeg_component_info *ci = c->comp_info;
    if (c->num_components != 3 || c->jpeg_color_space != JCS_YCbCr || c->data_precision != 8 || c->image_width != w ||
        c->image_height != h || ci[0].h_samp_factor != 2 || (ci[0].v_samp_factor != 1 && ci[0].v_samp_factor != 2) ||
        ci[1].h_samp_factor != 1 || ci[1].v_samp_factor != 1 || ci[2].h_samp_factor != 1 || ci[2].v_samp_factor != 1)
        return 0;
    c->raw_data_out = TRUE;
    c->do_fancy_upsampling = FALSE;
    c->dct_method = JDCT_IFAST;
    c->out_color_space = JCS_YCbCr;
    return ci[0].v_samp_factor;
}

/*
 * The Huffman tables of a baseline 4:2:2 or 4:2:0 frame's scan, as libjpeg decodes it (after
 * the header, with the standard tables where the frame has no DHT: webcam frames), for
 * scan.rs. Fills bits (17 counts per table, count 0 unused) and vals (256 symbols per
 * table) for the DC then AC table of Y, Cb and Cr, in that order. Returns the number of luma
 * blocks per MCU (2 for 4:2:2, 4 for 4:2:0), or RAW_NOT_TAKEN for any frame that is not one
 * single-scan sequential Huffman-coded YCbCr 4:2:2 or 4:2:0 w x h frame whose MCUs are that
 * many Y blocks, then Cb, then Cr (nothing to do: the caller decodes it another way), or
 * RAW_ERROR (the message says why).
 */
int mst_jpeg_raw_scan_tables(struct mst_jpeg_raw *d, const uint8_t *jpeg, size_t len, size_t w, size_t h,
                             uint8_t bits[6][17], uint8_t vals[6][256]) {
    j_decompress_ptr c = &d->cinfo;
    d->err.warnings = 0;
    d->err.message[0] = 0;
    if (setjmp(d->err.jump)) {
        api.abort(c);
        return RAW_ERROR;
    }
    int v = read_header_strips(d, jpeg, len, w, h);
    int ok = v != 0, luma = 2 * v;
    /* comp_info is this frame's once the header is read. */
    jpeg_component_info *ci = c->comp_info;
    ok = ok && !c->progressive_mode && !c->arith_code && c->comps_in_scan == 3 && c->cur_comp_info[0] == &ci[0] &&
         c->cur_comp_info[1] == &ci[1] && c->cur_comp_info[2] == &ci[2];
    if (!ok) {
        api.abort(c);
        return RAW_NOT_TAKEN;
    }
    /* Starting fills in the standard tables (jinit_huff_decoder) and lays out the MCU. */
    api.start(c);
    ok = c->blocks_in_MCU == luma + 2 && c->MCU_membership[luma] == 1 && c->MCU_membership[luma + 1] == 2;
    for (int b = 0; b < luma; b++)
        ok = ok && c->MCU_membership[b] == 0;
    if (!ok) {
        api.abort(c);
        return RAW_NOT_TAKEN;
    }
    for (int k = 0; k < 3; k++) {
        JHUFF_TBL *t[2] = {c->dc_huff_tbl_ptrs[ci[k].dc_tbl_no], c->ac_huff_tbl_ptrs[ci[k].ac_tbl_no]};
        for (int j = 0; j < 2; j++) {
            if (!t[j]) {
                api.abort(c);
                return RAW_NOT_TAKEN;
            }
            memcpy(bits[2 * k + j], t[j]->bits, 17);
            memcpy(vals[2 * k + j], t[j]->huffval, 256);
        }
    }
    api.abort(c);
    return luma;
}

/*
 * Decodes the first `rows` rows of `jpeg` (`len` bytes), which must be w x h, into the I420
 * planes y, u, v (rows of w and (w + 1) / 2 bytes at their strides; `rows` and (rows + 1) / 2
 * rows; the caller checked that the planes hold them). Writes nothing outside those rows.
 * `rows` is h (the whole frame) or an even number below it (the top of a frame split over two
 * threads); the rest is never read.
 *
 * With `feed` not NULL, libjpeg takes each MCU's coefficients from `feed(feed_ctx, ...)`
 * instead of Huffman-decoding the scan (whose data is then not read): `feed` is called on this
 * thread, once per MCU in order, from the first MCU of `jpeg` (for the bottom of a frame, a
 * JPEG of its own whose header says the bottom's height: mod.rs). A feed that returns 0 ends
 * the decode with RAW_ERROR.
 *
 * A whole frame (`rows` == h, no `feed`) is read on to its EOI marker, as TurboJPEG reads it.
 *
 * Returns RAW_OK, RAW_DAMAGED (decoded, but the data was corrupt: the first warning is the
 * message), RAW_ERROR (the message says why; the planes may be partly written) or
 * RAW_NOT_TAKEN (not YCbCr 4:2:2 or 4:2:0 at 8 bits, or another size: nothing written; the
 * caller decodes it another way).
 */
int mst_jpeg_raw_decode(struct mst_jpeg_raw *d, const uint8_t *jpeg, size_t len, uint8_t *y, size_t ys, uint8_t *u,
                        size_t us, uint8_t *v, size_t vs, size_t w, size_t h, size_t rows, mst_jpeg_feed feed,
                        void *feed_ctx) {
    j_decompress_ptr c = &d->cinfo;
    d->err.warnings = 0;
    d->err.message[0] = 0;
    if (rows > h || (rows < h && rows % 2)) {
        snprintf(d->err.message, sizeof d->err.message, "%zu rows of a %zu-row frame: not whole chroma rows", rows, h);
        return RAW_ERROR;
    }
    if (setjmp(d->err.jump)) {
        api.abort(c);
        return RAW_ERROR;
    }
    /* vs_luma: 1 for 4:2:2 (8 luma and 8 chroma rows a strip, chroma averaged in pairs), 2
     * for 4:2:0 (16 luma rows and 8 chroma rows: the I420 rows themselves). */
    int vs_luma = read_header_strips(d, jpeg, len, w, h);
    if (!vs_luma) {
        api.abort(c);
        return RAW_NOT_TAKEN;
    }
    jpeg_component_info *ci = c->comp_info;
    api.start(c);
    if (feed) {
        d->feed = feed;
        d->feed_ctx = feed_ctx;
        c->entropy->decode_mcu = fed_mcu;
    }

    /* Rows as libjpeg writes them: whole 8-sample blocks. */
    size_t lw = (size_t)ci[0].width_in_blocks * DCTSIZE, pw = (size_t)ci[1].width_in_blocks * DCTSIZE;
    size_t cw = (w + 1) / 2, ch = (rows + 1) / 2, lrows = 8 * (size_t)vs_luma;
    if (lw < w || pw < cw || ci[2].width_in_blocks != ci[1].width_in_blocks || c->max_v_samp_factor != vs_luma) {
        api.abort(c);
        return RAW_NOT_TAKEN;
    }
    /* A plane's rows go straight to the frame when a block row is exactly a frame row; 4:2:2
     * chroma always goes through the strip, to be averaged. */
    int luma_direct = lw == w, chroma_direct = vs_luma == 2 && pw == cw;
    size_t luma_n = luma_direct ? 0 : lrows * lw, chroma_n = chroma_direct ? 0 : 8 * pw;
    size_t need = luma_n + 2 * chroma_n + (lw > pw ? lw : pw);
    if (!grow_strip(d, c, need, "strip")) return RAW_ERROR;
    unsigned char *sl = d->strip, *su = sl + luma_n, *sv = su + chroma_n, *spare = sv + chroma_n;
    JSAMPROW yrows[16], urows[8], vrows[8];
    JSAMPARRAY planes[3] = {yrows, urows, vrows};
    if (!chroma_direct)
        for (int i = 0; i < 8; i++) {
            urows[i] = su + i * pw;
            vrows[i] = sv + i * pw;
        }
    while (c->output_scanline < rows) {
        size_t top = c->output_scanline;
        for (size_t i = 0; i < lrows; i++) {
            if (!luma_direct)
                yrows[i] = sl + i * lw;
            else if (top + i < rows)
                yrows[i] = y + (top + i) * ys;
            else
                yrows[i] = spare; /* rows past the last one wanted */
        }
        if (chroma_direct)
            for (size_t i = 0; i < 8; i++) {
                size_t r = top / 2 + i;
                urows[i] = r < ch ? u + r * us : spare;
                vrows[i] = r < ch ? v + r * vs : spare;
            }
        JDIMENSION got = api.read_raw(c, planes, (JDIMENSION)lrows);
        if (got == 0) {
            /* Suspension cannot happen with a memory source; treat it as truncation. */
            api.abort(c);
            snprintf(d->err.message, sizeof d->err.message, "the JPEG data ended early");
            return RAW_ERROR;
        }
        size_t n = top >= rows ? 0 : rows - top < lrows ? rows - top : lrows;
        if (!luma_direct)
            for (size_t i = 0; i < n; i++)
                memcpy(y + (top + i) * ys, sl + i * lw, w);
        if (vs_luma == 2) {
            /* Chroma rows top / 2 .. are the I420 rows themselves. */
            if (!chroma_direct)
                for (size_t i = 0; i < (n + 1) / 2; i++) {
                    memcpy(u + (top / 2 + i) * us, urows[i], cw);
                    memcpy(v + (top / 2 + i) * vs, vrows[i], cw);
                }
            continue;
        }
        /* Chroma rows top .. top + n - 1 (4:2:2) make I420 rows top / 2 ..; a last odd row
         * (of the whole frame: a cut is even) averages with itself. */
        for (size_t k = 0; k < (n + 1) / 2 && top / 2 + k < ch; k++) {
            size_t r0 = 2 * k, r1 = 2 * k + 1 < n ? 2 * k + 1 : n - 1;
            uint8_t *ou = u + (top / 2 + k) * us, *ov = v + (top / 2 + k) * vs;
            const uint8_t *a = urows[r0], *b = urows[r1], *e = vrows[r0], *f = vrows[r1];
            for (size_t x = 0; x < cw; x++)
                ou[x] = (uint8_t)((a[x] + b[x] + 1) >> 1);
            for (size_t x = 0; x < cw; x++)
                ov[x] = (uint8_t)((e[x] + f[x] + 1) >> 1);
        }
    }
    /* A whole frame read by libjpeg is read on to its EOI marker, as TurboJPEG does, so junk
     * after the scan, a missing EOI or a stray marker there is reported here as on every other
     * path (mod.rs's module doc). A fed decode never read the scan: scan.rs checked its
     * end, and only the top of a split frame stops early; both just reset the decoder. */
    if (!feed && rows == h)
        api.finish(c);
    else
        api.abort(c);
    return d->err.warnings ? RAW_DAMAGED : RAW_OK;
}

/*
 * How libjpeg decodes `jpeg` (`len` bytes, any subsampling, YCbCr or greyscale), read through
 * to its EOI marker: the pixels thrown away, or with `out` not NULL (for tests: a reference),
 * written there as rows of width x components samples (Y, Cb, Cr or Y; chroma replicated to
 * full size, without interpolation) up to `out_len` bytes; RAW_OK, RAW_DAMAGED (the first warning is the
 * message) or RAW_ERROR (the message says why). For the frames TurboJPEG reports a warning
 * for: TurboJPEG 2.1 still reports its warning code after a fatal error that followed a warning
 * (tjGetErrorCode), when nothing was decoded, so only this says whether the frame decoded.
 */
int mst_jpeg_raw_verdict(struct mst_jpeg_raw *d, const uint8_t *jpeg, size_t len, uint8_t *out, size_t out_len) {
    j_decompress_ptr c = &d->cinfo;
    d->err.warnings = 0;
    d->err.message[0] = 0;
    if (setjmp(d->err.jump)) {
        api.abort(c);
        return RAW_ERROR;
    }
    api.mem_src(c, jpeg, (unsigned long)len);
    api.read_header(c, TRUE);
    c->out_color_space = c->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_YCbCr;
    c->do_fancy_upsampling = FALSE;
    c->dct_method = JDCT_IFAST;
    api.start(c);
    size_t need = (size_t)c->output_width * (size_t)c->output_components;
    if (!grow_strip(d, c, need, "row")) return RAW_ERROR;
    while (c->output_scanline < c->output_height) {
        size_t at = (size_t)c->output_scanline * need;
        JSAMPROW row = out && at + need <= out_len ? out + at : d->strip;
        if (api.read_scanlines(c, &row, 1) == 0) {
            api.abort(c);
            snprintf(d->err.message, sizeof d->err.message, "the JPEG data ended early");
            return RAW_ERROR;
        }
    }
    api.finish(c);
    return d->err.warnings ? RAW_DAMAGED : RAW_OK;
}

/* The bytes of scratch this decoder holds besides libjpeg's own (its strip). */
size_t mst_jpeg_raw_scratch_bytes(const struct mst_jpeg_raw *d) { return d ? d->strip_len : 0; }
