/* Threads for the C loops of patches.py and maxpool.py: as many as MKL's thread count (which MKL_NUM_THREADS and
   OMP_NUM_THREADS set), their BLAS calls single-threaded while they share the cores; without MKL, one (the BLAS
   threads its products itself). C++: PyTensor compiles its modules with g++. */

#ifndef SYMDL_THREADS_H  /* once a module, where PyTensor puts several ops' support code in one */
#define SYMDL_THREADS_H


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

/* count threads, this one first, each running f(t) (t = 0 .. count - 1); a thread that cannot start runs here after */
template <typename F>
struct symdl_task {
    const F* f;
    int t;
};

template <typename F>
static void* symdl_task_run(void* arg) {
    symdl_task<F>* task = (symdl_task<F>*) arg;
    (*task->f)(task->t);
    return NULL;
}

template <typename F>
static void symdl_parallel(int count, const F& f) {
    pthread_t ids[count > 1 ? count : 1];
    symdl_task<F> tasks[count > 1 ? count : 1];
    int started[count > 1 ? count : 1];
    for (int t = 1; t < count; ++t) {
        tasks[t] = {&f, t};
        started[t] = !pthread_create(&ids[t], NULL, symdl_task_run<F>, &tasks[t]);
    }
    f(0);
    for (int t = 1; t < count; ++t) {
        if (started[t])
            pthread_join(ids[t], NULL);
        else
            f(t);
    }
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
