// train.h: train one cell (one grid point, one seed) and log it.
#ifndef LORALAB_TRAIN_H
#define LORALAB_TRAIN_H

#include "metrics.h"
#include "spec.h"
#include "util.h"

// ok, diverged, error; and for teachers with a convex reference (ntk, lambda
// > 0) the verdict on the final point: global (gap <= GLOBAL_GAP and cert <=
// 1 + GLOBAL_CERT), spurious_min (stationary, smallest Hessian eigenvalue >=
// -HESS_TOL ||H||-ish, i.e. no descent direction), saddle (a negative
// eigenvalue), not_converged (objective gradient above GRAD_TOL).
typedef enum {
    RUN_OK = 0, RUN_DIVERGED, RUN_ERROR, RUN_GLOBAL, RUN_SPURIOUS, RUN_SADDLE, RUN_NOT_CONVERGED,
    RUN_INTERRUPTED, RUN_NSTATUS
} run_status;
#define GLOBAL_GAP 1e-6
#define GLOBAL_CERT 1e-4
#define GRAD_TOL 1e-6
#define HESS_TOL 1e-6
extern const char *const run_status_names[];

typedef struct {
    run_status status;
    int steps;                 // the step of the last trace row: updates whose result
                               //   was logged (T when ok; see train.c for the others)
    metrics last;              // metrics of the last logged step
    double min_align_a;        // over logged steps (nan if none was defined)
    double seconds;            // wall time of the cell
    double setup_seconds;      // of which building the problem, initialising (and the
                               //   convex reference)
    double step_seconds;       // of which training steps: loss, gradients, updates
                               //   (not the logged metrics)
    double risk_init;          // risk and err_op at step 0
    double err_op_init;
    double steps_to_tol;       // first logged step with risk <= log.risk_tol * risk_init
                               //   (nan if never)
    double sigma_dev;          // ||Sigma_hat - I||_op of the data (nan if not known)
    double err_op_bound;       // sigma_dev ||Delta||_op (Theorem 3.3)
    double steps_to_align;     // first logged step with align_a <= log.align_target
    double t_star;             // its prediction by Theorem 3.2
    double s_rstar_g;          // s_{r*}(G)
    // Hypotheses' quantities (theory/THEORY.md section 5; nan where the teacher
    // has no target shift Delta, i.e. ntk):
    double rho_init;           // ||W_0 - W_nat||_F / lambda*_{r*}  (= ||A0 B0 - Delta||_F /
                               //   lambda*_{r*} for inits without a base shift)
    double lambda_rstar;       // lambda*_{r*}: r*-th singular value of Delta
    double kappa_delta;        // lambda*_1 / lambda*_{r*}, measured on Delta
    double g_op;               // ||G||_op
    double alpha_thm;          // theta^{3/2} d^{-3/4} kappa^{-1/2} ||G||_op^{1/2} (Theorem 3.2,
                               //   constant 1)
    double alpha_init;         // sqrt(init.alpha2) for initialisers drawn with it, else nan
    double f_star, cert_star;  // convex reference (nan without one)
    double rank_star, convex_iters;
    double test_loss_star;     // test loss of delta* (nan without a test set)
    double rank_bound;         // max{r : r(r+1)/2 <= K N}
    double min_hess_eig;       // at the final point (nan unless computed)
    double grad_objective;     // ||grad F|| at the final point, weight decay included
    double pre_train_loss;     // the pretrained network (mlp teacher): loss and accuracy on
    double pre_train_acc;      //   its source-class training rows, accuracy on their test
    double pre_test_acc;       //   rows (nan for the other teachers)
    char message[sizeof(((lerr *)0)->msg)];
} train_result;

// Train s (teacher, init, optimiser) with experiment seed `seed`.  Each
// logged step appends one line "<prefix><seed>,<step>,<metrics...>\n" to
// `trace`.  Matrices asked for by log.save go to save_dir as
// "<a|b|w|g>_<tag>.npy".  Failures of the run itself (a singular system...)
// end up in res as RUN_ERROR and return 0; -1 is returned only for input
// errors and output failures (e filled).
// cache_dir (may be NULL) keeps convex optima, one file per (teacher,
// lambda, convex settings, seed), so cells that share them solve once.
int train_cell(const spec *s, long seed, const char *prefix, afile *trace,
               const char *save_dir, const char *cache_dir, const char *tag,
               train_result *res, lerr *e);

// Free the problem train_cell keeps between cells (see train.c).
void train_release_problem(void);

#endif
