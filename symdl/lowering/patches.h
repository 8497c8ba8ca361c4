/* The loops of patches.py's ops: a convolution's patches gathered (or its image gradient scattered) a chunk of
   images at a time into a buffer that stays in cache for its BLAS product. The batch is split between threads,
   each with its own buffer and single-threaded products (MKL's, whose thread count says how many); without MKL,
   one thread, whose products the BLAS threads itself. C++ (PyTensor compiles its modules with g++). */

#include <pthread.h>
#include <string.h>

#ifdef SYMDL_MKL
extern "C" {
int MKL_Get_Max_Threads(void);
int MKL_Set_Num_Threads_Local(int);
}
static int symdl_threads(void) { return MKL_Get_Max_Threads(); }
static int symdl_blas_threads(int n) { return MKL_Set_Num_Threads_Local(n); }
#else
static int symdl_threads(void) { return 1; }
static int symdl_blas_threads(int n) { return n; }
#endif

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

/* one thread's share, images [lo, hi): the product (forward), or the filters' gradient into dfilters and the image's
   into dimage where it is wanted (backward) */
template <typename T>
struct symdl_job {
    symdl_window v;
    const T *image, *filters, *g;
    T *out, *dimage, *dfilters, *cols;
    npy_intp k, o, nb, lo, hi;
    int sequential;  // the BLAS single-threaded in this share (the threads share the cores)
};

template <typename T>
static void* symdl_run(void* arg) {
    symdl_job<T>& j = *(symdl_job<T>*) arg;
    const npy_intp p = j.v.oh * j.v.ow, n = j.v.b * p;
    const int saved = j.sequential ? symdl_blas_threads(1) : 0;
    if (!j.out && j.lo == j.hi) memset(j.dfilters, 0, sizeof(T) * j.k * j.o);
    for (npy_intp b0 = j.lo; b0 < j.hi; b0 += j.nb) {
        const npy_intp nb = j.hi - b0 < j.nb ? j.hi - b0 : j.nb, nc = nb * p;
        symdl_gather(j.v, j.image, j.cols, b0, nb);
        if (j.out) {  // out[:, chunk] = filters' @ patches
            symdl_gemm('T', 'N', j.o, nc, j.k, j.filters, j.o, j.cols, nc, 0, j.out + b0 * p, n);
            continue;
        }
        symdl_gemm('N', 'T', j.k, j.o, nc, j.cols, nc, j.g + b0 * p, n, b0 > j.lo, j.dfilters, j.o);  // += patches @ g'
        if (j.dimage) {
            symdl_gemm('N', 'N', j.k, nc, j.o, j.filters, j.o, j.g + b0 * p, n, 0, j.cols, nc);  // the patches' gradient
            symdl_scatter(j.v, j.cols, j.dimage, b0, nb);
        }
    }
    if (j.sequential) symdl_blas_threads(saved);
    return NULL;
}

/* the jobs, one a thread: the first in this one; a thread that cannot start runs its job here too */
template <typename T>
static void symdl_parallel(symdl_job<T>* jobs, int count) {
    pthread_t threads[count];
    int started[count];
    for (int t = 1; t < count; ++t) started[t] = !pthread_create(&threads[t], NULL, symdl_run<T>, &jobs[t]);
    symdl_run<T>(&jobs[0]);
    for (int t = 1; t < count; ++t) {
        if (started[t])
            pthread_join(threads[t], NULL);
        else
            symdl_run<T>(&jobs[t]);
    }
}

/* the product (out) or the gradients (dfilters, and dimage unless NULL) of filters [k, o] and the patches of image,
   chunks of about chunk_bytes; -1 where memory runs out */
template <typename T>
static int symdl_patch_product(const symdl_window& v, const T* image, const T* filters, const T* g, T* out, T* dimage, T* dfilters,
                               npy_intp k, npy_intp o, npy_intp chunk_bytes) {
    const npy_intp p = v.oh * v.ow, per_image = k * p * (npy_intp) sizeof(T);
    const npy_intp nb = per_image >= chunk_bytes ? 1 : chunk_bytes / per_image;
    int count = symdl_threads();
    count = count < 1 ? 1 : (count > v.b ? (v.b > 0 ? (int) v.b : 1) : count);
    T* cols = (T*) malloc(sizeof(T) * count * k * nb * p);
    T* parts = !out && count > 1 ? (T*) malloc(sizeof(T) * (count - 1) * k * o) : NULL;  // the other threads' dfilters
    if (!cols || (!out && count > 1 && !parts)) {
        free(cols);
        free(parts);
        return -1;
    }
    symdl_job<T> jobs[count];
    for (int t = 0; t < count; ++t)
        jobs[t] = {v, image, filters, g, out, dimage, t ? parts + (t - 1) * k * o : dfilters, cols + t * k * nb * p, k, o, nb,
                   v.b * t / count, v.b * (t + 1) / count, count > 1};
    symdl_parallel(jobs, count);
    for (int t = 1; t < count && !out; ++t)
        for (npy_intp i = 0; i < k * o; ++i) dfilters[i] += parts[(t - 1) * k * o + i];
    free(cols);
    free(parts);
    return 0;
}
