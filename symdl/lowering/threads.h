/* Threads for the C loops of patches.py and maxpool.py: with MKL, OpenMP's (MKL's runtime, its thread count, which
   MKL_NUM_THREADS and OMP_NUM_THREADS set), their BLAS calls single-threaded while they share the cores; without
   MKL, one (the BLAS threads its products itself). C++: PyTensor compiles its modules with g++. */

#ifndef SYMDL_THREADS_H  /* once a module, where PyTensor puts several ops' support code in one */
#define SYMDL_THREADS_H


#include <string.h>

#ifdef SYMDL_MKL
#include <omp.h>
extern "C" int MKL_Set_Num_Threads_Local(int);
static int symdl_threads(void) { return omp_get_max_threads(); }
static int symdl_blas_threads(int n) { return MKL_Set_Num_Threads_Local(n); }
#else
static int symdl_threads(void) { return 1; }
static int symdl_blas_threads(int n) { return n; }
#endif

/* f(t) in each of count threads (t = 0 .. count - 1, fewer where OpenMP gives fewer), this one among them: an OpenMP
   team of MKL's own runtime (cthreads.py links it), whose idle threads are the ones MKL keeps spinning a while after
   its products */
template <typename F>
static void symdl_parallel(int count, const F& f) {
#ifdef SYMDL_MKL
    if (count > 1) {
#pragma omp parallel num_threads(count)
        f(omp_get_thread_num());
        return;
    }
#endif
    f(0);
}

/* f(lo, hi) over [0, n) in `pieces` parts that the threads claim one at a time (a thread slowed by another process
   takes fewer); one thread where the work, n * cost, is too little to share */
template <typename F>
static void symdl_pieces(npy_intp n, npy_intp pieces, npy_intp cost, const F& f) {
    pieces = pieces < n ? pieces : (n > 0 ? n : 1);
    int count = n * cost < (1 << 16) ? 1 : symdl_threads();
    count = count < 1 ? 1 : (count > pieces ? (int) pieces : count);
    npy_intp next = 0;
    symdl_parallel(count, [&](int) {
        for (npy_intp s; (s = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED)) < pieces;) f(n * s / pieces, n * (s + 1) / pieces);
    });
}

#endif
