/* The loops of maxpool.py's ops (after threads.h): the maxima of the ph x pw windows that tile the rows of an array
   [rows * ph, w], and their gradient; the rows shared between threads. */

#ifndef SYMDL_MAXPOOL_H /* once a module, where PyTensor puts several ops' support code in one */
#define SYMDL_MAXPOOL_H

#include <math.h>

/* PyTensor's maximum: b where b > a, a where a >= b, else (a NaN) NaN; as selects without branches, which the
   compiler vectorises (random data mispredicted the branches of the nested conditional: 7.6 ms against 1.2) */
template <typename T>
static inline T symdl_max(T a, T b) {
    const T most = b > a ? b : a;
    return a >= b || b > a ? most : (T) NAN;
}

/* as the graph: the maximum of the ph rows of each window, in order, then of its pw columns, in order */
template <int ph, int pw, typename X>
static void symdl_window_max(const X* xs, X* ms, npy_intp rows, npy_intp w) {
    const npy_intp ow = w / pw;
    symdl_pieces(rows, 16, ph * w, [&](npy_intp lo, npy_intp hi) {
        X tall[w > 0 ? w : 1];
        for (npy_intp r = lo; r < hi; ++r) {
            const X* x = xs + r * ph * w;
            for (npy_intp c = 0; c < w; ++c) tall[c] = x[c];
            for (npy_intp k = 1; k < ph; ++k)
                for (npy_intp c = 0; c < w; ++c) tall[c] = symdl_max(tall[c], x[k * w + c]);
            X* m = ms + r * ow;
            for (npy_intp c = 0; c < ow; ++c) {
                X most = tall[c * pw];
                for (npy_intp j = 1; j < pw; ++j) most = symdl_max(most, tall[c * pw + j]);
                m[c] = most;
            }
        }
    });
}

/* (x == its window's max) * g: per row of windows, its maxima and gradients spread over the row's width once, then
   one elementwise loop per image row (the compiler vectorises it) */
template <int ph, int pw, typename X, typename M, typename G, typename Z>
static void symdl_window_max_grad(const X* xs, const M* ms, const G* gs, Z* dst, npy_intp rows, npy_intp w) {
    const npy_intp ow = w / pw;
    symdl_pieces(rows, 16, ph * w, [&](npy_intp lo, npy_intp hi) {
        M wide[w > 0 ? w : 1];
        G spread[w > 0 ? w : 1];
        for (npy_intp r = lo; r < hi; ++r) {
            for (npy_intp c = 0; c < w; ++c) {
                wide[c] = ms[r * ow + c / pw];
                spread[c] = gs[r * ow + c / pw];
            }
            for (npy_intp i = 0; i < ph; ++i) {
                const X* __restrict xr = xs + (r * ph + i) * w;
                Z* __restrict zr = dst + (r * ph + i) * w;
                for (npy_intp c = 0; c < w; ++c) zr[c] = (Z) ((xr[c] == wide[c]) * spread[c]);
            }
        }
    });
}

#endif
