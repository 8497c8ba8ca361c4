/* The loops of patches.py's ops (after threads.h): a convolution's patches gathered (or its image gradient
   scattered) a chunk of images at a time into a buffer that stays in cache for its BLAS product; the batch is
   shared between threads, each with its own buffer. */

#ifndef SYMDL_PATCHES_H  /* once a module, where PyTensor puts several ops' support code in one */
#define SYMDL_PATCHES_H


struct symdl_window {
    npy_intp kh, kw, dh, dw, sh, sw;  // the kernel's taps, their spacing and the stride
    npy_intp c, b, h, w, oh, ow;      // the image [c*b, h, w] and its outputs' sides
};

/* C = op(A) op(B), all row-major, by the column-major BLAS: C' = op(B)' op(A)' */
static void symdl_gemm(char ta, char tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta, float* c,
                       int ldc) {
    float one = 1;
    sgemm_(&tb, &ta, &n, &m, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);
}

static void symdl_gemm(char ta, char tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double beta,
                       double* c, int ldc) {
    double one = 1;
    dgemm_(&tb, &ta, &n, &m, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);
}

/* the patches of images [b0, b0 + nb): rows (i, j, channel), columns (image, y, x) */
template <typename T>
static void symdl_gather(const symdl_window& v, const T* src, T* cols, npy_intp b0, npy_intp nb) {
    for (npy_intp i = 0; i < v.kh; ++i)
        for (npy_intp j = 0; j < v.kw; ++j)
            for (npy_intp c = 0; c < v.c; ++c) {
                T* out = cols + ((i * v.kw + j) * v.c + c) * nb * v.oh * v.ow;
                for (npy_intp n = 0; n < nb; ++n) {
                    const T* plane = src + (c * v.b + b0 + n) * v.h * v.w + i * v.dh * v.w + j * v.dw;
                    for (npy_intp y = 0; y < v.oh; ++y) {
                        const T* row = plane + y * v.sh * v.w;
                        for (npy_intp x = 0; x < v.ow; ++x) *out++ = row[x * v.sw];
                    }
                }
            }
}

/* the image gradient of images [b0, b0 + nb) from their columns: each element's taps added from zero in (i, j) order */
template <typename T>
static void symdl_scatter(const symdl_window& v, const T* cols, T* dst, npy_intp b0, npy_intp nb) {
    for (npy_intp c = 0; c < v.c; ++c)
        for (npy_intp n = 0; n < nb; ++n) {
            T* plane = dst + (c * v.b + b0 + n) * v.h * v.w;
            memset(plane, 0, sizeof(T) * v.h * v.w);
            for (npy_intp i = 0; i < v.kh; ++i)
                for (npy_intp j = 0; j < v.kw; ++j) {
                    const T* tap = cols + (((i * v.kw + j) * v.c + c) * nb + n) * v.oh * v.ow;
                    for (npy_intp y = 0; y < v.oh; ++y) {
                        T* row = plane + (y * v.sh + i * v.dh) * v.w + j * v.dw;
                        for (npy_intp x = 0; x < v.ow; ++x) row[x * v.sw] += *tap++;
                    }
                }
        }
}

/* the work of one call: the product (forward), or the filters' gradient and the image's where it is wanted (backward),
   over the batch cut into `segments` that the threads claim one at a time, so a thread slowed by another process
   takes fewer; segment s adds its share of the filters' gradient into its own slot (s > 0: parts), summed in order
   at the end, so the sums do not depend on which thread took which segment */
template <typename T>
struct symdl_work {
    symdl_window v;
    const T *image, *filters, *g;
    T *out, *dimage, *dfilters, *parts;
    npy_intp k, o, nb, segments;
    npy_intp next;  // the next segment to claim
};

template <typename T>
static void symdl_segment(symdl_work<T>& w, npy_intp s, T* cols) {
    const npy_intp p = w.v.oh * w.v.ow, n = w.v.b * p, lo = w.v.b * s / w.segments, hi = w.v.b * (s + 1) / w.segments;
    T* df = s ? w.parts + (s - 1) * w.k * w.o : w.dfilters;
    if (!w.out && lo == hi) memset(df, 0, sizeof(T) * w.k * w.o);
    for (npy_intp b0 = lo; b0 < hi; b0 += w.nb) {
        const npy_intp nb = hi - b0 < w.nb ? hi - b0 : w.nb, nc = nb * p;
        symdl_gather(w.v, w.image, cols, b0, nb);
        if (w.out) {  // out[:, chunk] = filters' @ patches
            symdl_gemm('T', 'N', w.o, nc, w.k, w.filters, w.o, cols, nc, 0, w.out + b0 * p, n);
            continue;
        }
        symdl_gemm('N', 'T', w.k, w.o, nc, cols, nc, w.g + b0 * p, n, b0 > lo, df, w.o);  // += patches @ g'
        if (w.dimage) {
            symdl_gemm('N', 'N', w.k, nc, w.o, w.filters, w.o, w.g + b0 * p, n, 0, cols, nc);  // the patches' gradient
            symdl_scatter(w.v, cols, w.dimage, b0, nb);
        }
    }
}

/* the product (out) or the gradients (dfilters, and dimage unless NULL) of filters [k, o] and the patches of image,
   chunks of about chunk_bytes; -1 where memory runs out */
template <typename T>
static int symdl_patch_product(const symdl_window& v, const T* image, const T* filters, const T* g, T* out, T* dimage, T* dfilters,
                               npy_intp k, npy_intp o, npy_intp chunk_bytes, npy_intp segments) {
    const npy_intp p = v.oh * v.ow, per_image = k * p * (npy_intp) sizeof(T);
    const npy_intp nb = per_image >= chunk_bytes ? 1 : chunk_bytes / per_image;
    segments = segments < v.b ? segments : (v.b > 0 ? v.b : 1);
    int count = symdl_threads();
    count = count < 1 ? 1 : (count > segments ? (int) segments : count);
    T* cols = (T*) malloc(sizeof(T) * count * k * nb * p);
    T* parts = out ? NULL : (T*) malloc(sizeof(T) * ((segments - 1) * k * o + 1));
    if (!cols || (!out && !parts)) {
        free(cols);
        free(parts);
        return -1;
    }
    symdl_work<T> work = {v, image, filters, g, out, dimage, dfilters, parts, k, o, nb, segments, 0};
    symdl_parallel(count, [&](int t) {
        const int saved = count > 1 ? symdl_blas_threads(1) : 0;
        for (npy_intp s; (s = __atomic_fetch_add(&work.next, 1, __ATOMIC_RELAXED)) < segments;) symdl_segment(work, s, cols + t * k * nb * p);
        if (count > 1) symdl_blas_threads(saved);
    });
    for (npy_intp s = 1; s < segments && !out; ++s)
        for (npy_intp i = 0; i < k * o; ++i) dfilters[i] += parts[(s - 1) * k * o + i];
    free(cols);
    free(parts);
    return 0;
}

#endif
