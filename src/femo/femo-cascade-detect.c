/* gst-femo: detection with a loaded OpenCV cascade (femo-cascade.c), the way
 * OpenCV 4.6's CascadeClassifier does it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Detection reproduces cv::CascadeClassifier::detectMultiScale of OpenCV 4.6
 * (modules/objdetect/src/cascadedetect.cpp): the same scale list (float
 * factors), the same image size per scale, the bit-exact INTER_LINEAR_EXACT
 * resize, 32-bit integral images, the same variance normalisation, float
 * feature values with double stage sums, the same window grid (step 2 below
 * scale 2, skipping the next window after a stage-0 rejection), then
 * groupRectangles (eps 0.2) and clipping to the image.  The memory layout and
 * the order of work differ; the results do not depend on them.  Each row
 * stripe builds its own integral images starting at its first row: window
 * sums are differences, so they are the same exact integers (modulo 2^32 like
 * OpenCV's int32 buffers) whatever the origin.  Cascades of stumps run
 * eight windows of a row at once with AVX2 where the CPU has it, with the
 * same arithmetic per window (see run_row_groups).
 */
#include "femo-cascade-private.h"
#include "femo-error.h"
#include "femo-workers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86_SIMD 1
#else
#define HAVE_X86_SIMD 0
#endif

/* Frames up to MAX_FRAME pixels a side, windows of 3 pixels or more (the
 * loader's minimum) and a scale factor of at least MIN_SCALE_FACTOR need at
 * most 935 scales (1.01^934 * 3 <= 32768 < 1.01^935 * 3): plan_scales
 * never runs out of MAX_SCALES. */
#define MAX_FRAME 32768
#define MIN_SCALE_FACTOR 1.01
#define MAX_SCALES 1024
#define GROUP_EPS 0.2
/* words after the integral images: 8 windows at step 2 read 16 words */
#define ROW_PAD 32
/* words of an integral image a stripe may take (see plan_work) */
#define STRIPE_WORDS (1 << 22)

/* Offsets of one Haar feature's rectangle corners for a given row stride;
 * tilted rectangles point into the tilted integral, tofs words further. */
typedef struct
{
  gint32 ofs[3][4];
  gfloat weight[3];
} HaarOpt;

typedef struct
{
  HaarOpt f;
  gfloat threshold;
  gfloat left, right;
} HaarStump;

/* 16 corners of the 3x3 block grid: ofs[j * 4 + i] is (x + i w, y + j h) */
typedef struct
{
  gint32 ofs[16];
} LbpOpt;

typedef struct
{
  LbpOpt f;
  gfloat left, right;
  const gint32 *subset;
} LbpStump;

typedef enum
{
  RESIZE_COPY,
  RESIZE_AREA2,
  RESIZE_LINEAR,
} ResizeMode;

typedef struct
{
  gfloat factor;
  gint width, height;           /* the resized image */
  gint ystep;
  gint win_width, win_height;   /* the window in input pixels */
  gint work_width, work_height; /* window origins: x < work_width, ... */
  ResizeMode mode;
  gsize xtab, ytab;             /* into the resize tables */
  gint xmin, xmax, ymin, ymax;
} ScalePlan;

typedef struct
{
  gint scale;
  gint y0, y1;                  /* window rows [y0, y1) */
} Task;

/* Kernels on a group of 8 windows at p + k * step of one row, k < 8, in
 * lane order: lane l holds window lane_window[step - 1][l].  Bit l of the
 * returned mask is lane l's.  norm8 (Haar): set where the window is not
 * flat, the variance factors in vnf[].  stage8: set where stage si rejects
 * the window. */
typedef guint (*Norm8Func) (const FemoDetector * d, const guint32 * p,
    const guint32 * pq, gint step, gfloat * vnf);
typedef guint (*Stage8Func) (const FemoDetector * d, gint si,
    const guint32 * p, gint step, const gfloat * vnf);

/* an involution: also the lane of each window */
static const guint8 lane_window[2][8] = {
  {0, 1, 2, 3, 4, 5, 6, 7},
  {0, 1, 4, 5, 2, 3, 6, 7},
};

typedef struct
{
  gint x, y, width, height;
} RawRect;

typedef struct
{
  FemoDetector *det;
  guint8 *img;                  /* resized rows, det->stride bytes each */
  guint16 *lines[2];            /* horizontally resized source rows */
  gint line_row[2];
  guint32 *sum;                 /* sum, then tilted at det->tofs */
  guint32 *sqsum;
  guint8 *stage0;               /* per group of a row: lanes past stage 0 */
  gfloat *vnf;                  /* per window of a row, in lane order */
  RawRect *rects;
  gsize n_rects, cap_rects;
  gboolean out_of_memory;       /* lost raw windows this call */
} Worker;

struct _FemoDetector
{
  FemoCascade *cascade;
  guint n_threads;
  Norm8Func norm8;              /* Haar with stage8 */
  Stage8Func stage8;            /* NULL: window by window */
  Worker *workers;
  FemoWorkers *team;

  /* the current call */
  const FemoImageView *image;
  ScalePlan *scales;
  gsize n_scales, cap_scales;
  Task *tasks;
  gsize n_tasks, cap_tasks;
  gint *res_ofs;                /* resize source offsets, premultiplied */
  guint16 *res_coef;            /* two per entry */
  gsize cap_res;

  /* buffer geometry, only ever grows */
  gint stride;                  /* words (and bytes for img) per row */
  gint rows;                    /* integral rows per worker */
  gsize tofs;

  /* feature offsets for (stride, tofs) */
  gint opt_stride;
  gsize opt_tofs;
  HaarOpt *haar_opt;            /* per feature */
  HaarStump *haar_stumps;       /* per node when every tree is a stump */
  LbpOpt *lbp_opt;
  LbpStump *lbp_stumps;
  gint32 nofs[4];
  gdouble norm_area;

  /* grouping */
  RawRect *cand;
  gsize n_cand, cap_cand;
  gint *parent;
  gint64 *class_sum;            /* x, y, w, h, count per class */
  gint *class_of;
  FemoRect *out;
  gsize cap_group;
};

/* Grows *@mem to at least @need elements (by half at least). The sizes
 * of these arrays follow the frame and the cascade (raw windows: a weak
 * cascade on a large frame accepts millions), so FALSE, with *@mem and
 * *@cap as they were, when the memory cannot be had. */
static gboolean
grow (gpointer * mem, gsize * cap, gsize need, gsize elem)
{
  gpointer p;
  gsize n;

  if (need <= *cap)
    return TRUE;
  n = MAX (need, *cap + *cap / 2);
  p = g_try_realloc_n (*mem, n, elem);
  if (p == NULL)
    return FALSE;
  *mem = p;
  *cap = n;
  return TRUE;
}

/* OpenCV's cvRound: nearest, ties to even (the SSE conversion) */
static inline gint
round_float (gfloat v)
{
  return (gint) lrintf (v);
}

static inline gint
round_double (gdouble v)
{
  return (gint) lrint (v);
}

/* ---- feature tables ---- */

static void
haar_opt_set (HaarOpt * o, const HaarFeature * f, gint step, gsize tofs)
{
  gint i;

  for (i = 0; i < 3; i++) {
    const HaarRect *r = &f->rects[i];
    o->weight[i] = r->weight;
    if (f->tilted) {
      o->ofs[i][0] = tofs + r->x + step * r->y;
      o->ofs[i][1] = tofs + r->x - r->height + step * (r->y + r->height);
      o->ofs[i][2] = tofs + r->x + r->width + step * (r->y + r->width);
      o->ofs[i][3] = tofs + r->x + r->width - r->height
          + step * (r->y + r->width + r->height);
    } else {
      o->ofs[i][0] = r->x + step * r->y;
      o->ofs[i][1] = r->x + r->width + step * r->y;
      o->ofs[i][2] = r->x + step * (r->y + r->height);
      o->ofs[i][3] = r->x + r->width + step * (r->y + r->height);
    }
  }
}

static void
lbp_opt_set (LbpOpt * o, const LbpFeature * f, gint step)
{
  gint i, j;

  for (j = 0; j < 4; j++)
    for (i = 0; i < 4; i++)
      o->ofs[j * 4 + i] = f->x + i * f->width + step * (f->y + j * f->height);
}

static void
update_opt (FemoDetector * d)
{
  const FemoCascade *c = d->cascade;
  gint i;

  if (d->opt_stride == d->stride && d->opt_tofs == d->tofs)
    return;
  d->opt_stride = d->stride;
  d->opt_tofs = d->tofs;

  /* the variance window: the window less a 1-pixel border */
  d->nofs[0] = 1 + d->stride;
  d->nofs[1] = c->win_width - 1 + d->stride;
  d->nofs[2] = 1 + d->stride * (c->win_height - 1);
  d->nofs[3] = c->win_width - 1 + d->stride * (c->win_height - 1);
  d->norm_area = (gdouble) (c->win_width - 2) * (c->win_height - 2);

  if (c->kind == FEMO_CASCADE_HAAR) {
    for (i = 0; i < c->n_features; i++)
      haar_opt_set (&d->haar_opt[i], &c->haar[i], d->stride, d->tofs);
    if (c->stumps) {
      for (i = 0; i < c->n_nodes; i++) {
        HaarStump *s = &d->haar_stumps[i];
        s->f = d->haar_opt[c->nodes[i].feature];
        s->threshold = c->nodes[i].threshold;
        s->left = c->leaves[c->trees[i].first_leaf];
        s->right = c->leaves[c->trees[i].first_leaf + 1];
      }
    }
  } else {
    for (i = 0; i < c->n_features; i++)
      lbp_opt_set (&d->lbp_opt[i], &c->lbp[i], d->stride);
    if (c->stumps) {
      for (i = 0; i < c->n_nodes; i++) {
        LbpStump *s = &d->lbp_stumps[i];
        s->f = d->lbp_opt[c->nodes[i].feature];
        s->left = c->leaves[c->trees[i].first_leaf];
        s->right = c->leaves[c->trees[i].first_leaf + 1];
        s->subset = c->subsets + i * (gsize) c->subset_size;
      }
    }
  }
}

/* ---- evaluation ---- */

static inline gint32
rect_sum (const guint32 * p, const gint32 * o)
{
  /* int32 arithmetic modulo 2^32, like OpenCV's int buffers */
  return (gint32) (p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

static inline gfloat
haar_calc (const HaarOpt * f, const guint32 * p)
{
  gfloat ret = f->weight[0] * (gfloat) rect_sum (p, f->ofs[0])
      + f->weight[1] * (gfloat) rect_sum (p, f->ofs[1]);

  if (f->weight[2] != 0.0f)
    ret += f->weight[2] * (gfloat) rect_sum (p, f->ofs[2]);
  return ret;
}

static inline gint
lbp_calc (const LbpOpt * f, const guint32 * p)
{
  const gint32 *o = f->ofs;
  gint32 cval = (gint32) (p[o[5]] - p[o[6]] - p[o[9]] + p[o[10]]);

#define LBP_BLOCK(a, b, c, e) ((gint32) (p[o[a]] - p[o[b]] - p[o[c]] + p[o[e]]))
  return (LBP_BLOCK (0, 1, 4, 5) >= cval ? 128 : 0)
      | (LBP_BLOCK (1, 2, 5, 6) >= cval ? 64 : 0)
      | (LBP_BLOCK (2, 3, 6, 7) >= cval ? 32 : 0)
      | (LBP_BLOCK (6, 7, 10, 11) >= cval ? 16 : 0)
      | (LBP_BLOCK (10, 11, 14, 15) >= cval ? 8 : 0)
      | (LBP_BLOCK (9, 10, 13, 14) >= cval ? 4 : 0)
      | (LBP_BLOCK (8, 9, 12, 13) >= cval ? 2 : 0)
      | (LBP_BLOCK (4, 5, 8, 9) >= cval ? 1 : 0);
#undef LBP_BLOCK
}

/* HaarEvaluator::setWindow: FALSE (OpenCV's -1) for flat windows. */
static inline gboolean
haar_norm_factor (const FemoDetector * d, const guint32 * p,
    const guint32 * pq, gfloat * vnf)
{
  gint32 valsum = rect_sum (p, d->nofs);
  guint32 valsqsum = pq[d->nofs[0]] - pq[d->nofs[1]] - pq[d->nofs[2]]
      + pq[d->nofs[3]];
  gdouble nf = d->norm_area * valsqsum - (gdouble) valsum * valsum;

  if (nf > 0.) {
    nf = sqrt (nf);
    *vnf = (gfloat) (1. / nf);
    return d->norm_area * *vnf < 1e-1;
  }
  return FALSE;
}

/* Returns 1 (face), -stage (rejected there) or -1 (flat window), like
 * CascadeClassifierImpl::runAt. */
static gint
eval_haar_stumps (const FemoDetector * d, const guint32 * p, const guint32 * pq)
{
  const FemoCascade *c = d->cascade;
  const HaarStump *s = d->haar_stumps;
  gfloat vnf;
  gint si, i;

  if (!haar_norm_factor (d, p, pq, &vnf))
    return -1;
  for (si = 0; si < c->n_stages; si++) {
    const CascadeStage *stage = &c->stages[si];
    gdouble tmp = 0;

    for (i = 0; i < stage->n_trees; i++, s++) {
      gfloat value = haar_calc (&s->f, p) * vnf;
      tmp += value < s->threshold ? s->left : s->right;
    }
    if (tmp < stage->threshold)
      return -si;
  }
  return 1;
}

static gint
eval_lbp_stumps (const FemoDetector * d, const guint32 * p)
{
  const FemoCascade *c = d->cascade;
  const LbpStump *s = d->lbp_stumps;
  gint si, i;

  for (si = 0; si < c->n_stages; si++) {
    const CascadeStage *stage = &c->stages[si];
    gdouble tmp = 0;

    for (i = 0; i < stage->n_trees; i++, s++) {
      gint v = lbp_calc (&s->f, p);
      tmp += (s->subset[v >> 5] & (1u << (v & 31))) ? s->left : s->right;
    }
    if (tmp < stage->threshold)
      return -si;
  }
  return 1;
}

/* predictOrdered / predictCategorical for cascades of real trees */
static gint
eval_trees (const FemoDetector * d, const guint32 * p, const guint32 * pq)
{
  const FemoCascade *c = d->cascade;
  gboolean haar = c->kind == FEMO_CASCADE_HAAR;
  gfloat vnf = 1.f;
  gint si, wi;

  if (haar && !haar_norm_factor (d, p, pq, &vnf))
    return -1;
  for (si = 0; si < c->n_stages; si++) {
    const CascadeStage *stage = &c->stages[si];
    gdouble sum = 0;

    for (wi = 0; wi < stage->n_trees; wi++) {
      const CascadeTree *tree = &c->trees[stage->first_tree + wi];
      gint idx = 0;

      do {
        const CascadeNode *node = &c->nodes[tree->first_node + idx];
        if (haar) {
          gfloat val = haar_calc (&d->haar_opt[node->feature], p) * vnf;
          idx = val < node->threshold ? node->left : node->right;
        } else {
          const gint32 *subset = c->subsets
              + (gsize) (tree->first_node + idx) * c->subset_size;
          gint v = lbp_calc (&d->lbp_opt[node->feature], p);
          idx = (subset[v >> 5] & (1u << (v & 31))) ? node->left : node->right;
        }
      } while (idx > 0);
      sum += c->leaves[tree->first_leaf - idx];
    }
    if (sum < stage->threshold)
      return -si;
  }
  return 1;
}

/* ---- groups of 8 windows (AVX2) ----
 *
 * Eight windows of a row at once, lane by lane the same float and double
 * operations in the same order as the scalar code above, so the results are
 * bit-identical: separate multiplies and adds (the target has no FMA, so
 * nothing can be contracted), the same float-to-double conversions and the
 * same comparisons.  Lanes past the row's last window read padding and are
 * ignored. */

#if HAVE_X86_SIMD

#define AVX2 __attribute__((target ("avx2")))

/* The words at q[k * step], k < 8, in lane order (see lane_window). */
static inline AVX2 __m256i
load8 (const guint32 * q, gint step)
{
  __m256 a, b;

  if (step == 1)
    return _mm256_loadu_si256 ((const __m256i *) q);
  a = _mm256_castsi256_ps (_mm256_loadu_si256 ((const __m256i *) q));
  b = _mm256_castsi256_ps (_mm256_loadu_si256 ((const __m256i *) (q + 8)));
  return _mm256_castps_si256 (_mm256_shuffle_ps (a, b, 0x88));
}

static inline AVX2 __m256i
rect_sum8 (const guint32 * p, const gint32 * o, gint step)
{
  return _mm256_add_epi32 (_mm256_sub_epi32 (_mm256_sub_epi32 (load8 (p
                  + o[0], step), load8 (p + o[1], step)), load8 (p + o[2],
              step)), load8 (p + o[3], step));
}

/* tmp += the stump's leaf, in double as the scalar stage sum */
static inline AVX2 void
add_leaf8 (__m256d * tmp, __m256 leaf)
{
  tmp[0] = _mm256_add_pd (tmp[0],
      _mm256_cvtps_pd (_mm256_castps256_ps128 (leaf)));
  tmp[1] = _mm256_add_pd (tmp[1],
      _mm256_cvtps_pd (_mm256_extractf128_ps (leaf, 1)));
}

/* bit l: lane l's double stage sum below the stage threshold */
static inline AVX2 guint
stage_reject8 (const __m256d * tmp, gfloat threshold)
{
  const __m256d thr = _mm256_set1_pd (threshold);

  return _mm256_movemask_pd (_mm256_cmp_pd (tmp[0], thr, _CMP_LT_OQ))
      | _mm256_movemask_pd (_mm256_cmp_pd (tmp[1], thr, _CMP_LT_OQ)) << 4;
}

/* haar_norm_factor: bit l set where lane l is not flat */
static AVX2 guint
haar_norm8_avx2 (const FemoDetector * d, const guint32 * p,
    const guint32 * pq, gint step, gfloat * vnf)
{
  const __m256d area = _mm256_set1_pd (d->norm_area);
  const __m256i vs = rect_sum8 (p, d->nofs, step);
  /* unsigned to double: flip the sign bit, convert, add 2^31 (exact) */
  const __m256i vq = _mm256_xor_si256 (rect_sum8 (pq, d->nofs, step),
      _mm256_set1_epi32 (G_MININT32));
  __m128 inv[2];
  guint ok = 0;
  gint i;

  for (i = 0; i < 2; i++) {
    __m256d sd = _mm256_cvtepi32_pd (i ? _mm256_extracti128_si256 (vs, 1)
        : _mm256_castsi256_si128 (vs));
    __m256d qd = _mm256_add_pd (_mm256_cvtepi32_pd (i ?
            _mm256_extracti128_si256 (vq, 1) : _mm256_castsi256_si128 (vq)),
        _mm256_set1_pd (2147483648.0));
    __m256d nf = _mm256_sub_pd (_mm256_mul_pd (area, qd),
        _mm256_mul_pd (sd, sd));
    __m256d pos = _mm256_cmp_pd (nf, _mm256_setzero_pd (), _CMP_GT_OQ);

    inv[i] = _mm256_cvtpd_ps (_mm256_div_pd (_mm256_set1_pd (1.0),
            _mm256_sqrt_pd (nf)));
    pos = _mm256_and_pd (pos, _mm256_cmp_pd (_mm256_mul_pd (area,
                _mm256_cvtps_pd (inv[i])), _mm256_set1_pd (1e-1), _CMP_LT_OQ));
    ok |= _mm256_movemask_pd (pos) << (4 * i);
  }
  _mm256_storeu_ps (vnf, _mm256_set_m128 (inv[1], inv[0]));
  return ok;
}

/* one stage of eval_haar_stumps: bit l set where lane l is rejected */
static AVX2 guint
haar_stage8_avx2 (const FemoDetector * d, gint si, const guint32 * p,
    gint step, const gfloat * vnf8)
{
  const CascadeStage *stage = &d->cascade->stages[si];
  const HaarStump *s = d->haar_stumps + stage->first_tree;
  const HaarStump *end = s + stage->n_trees;
  const __m256 vnf = _mm256_loadu_ps (vnf8);
  __m256d tmp[2] = { _mm256_setzero_pd (), _mm256_setzero_pd () };

  for (; s < end; s++) {
    __m256 ret = _mm256_add_ps (_mm256_mul_ps (_mm256_set1_ps (s->f.weight[0]),
            _mm256_cvtepi32_ps (rect_sum8 (p, s->f.ofs[0], step))),
        _mm256_mul_ps (_mm256_set1_ps (s->f.weight[1]),
            _mm256_cvtepi32_ps (rect_sum8 (p, s->f.ofs[1], step))));
    __m256 lt;

    if (s->f.weight[2] != 0.0f)
      ret = _mm256_add_ps (ret, _mm256_mul_ps (_mm256_set1_ps (s->f.weight[2]),
              _mm256_cvtepi32_ps (rect_sum8 (p, s->f.ofs[2], step))));
    lt = _mm256_cmp_ps (_mm256_mul_ps (ret, vnf),
        _mm256_set1_ps (s->threshold), _CMP_LT_OQ);
    add_leaf8 (tmp, _mm256_blendv_ps (_mm256_set1_ps (s->right),
            _mm256_set1_ps (s->left), lt));
  }
  return stage_reject8 (tmp, stage->threshold);
}

/* one stage of eval_lbp_stumps */
static AVX2 guint
lbp_stage8_avx2 (const FemoDetector * d, gint si, const guint32 * p,
    gint step, const gfloat * vnf8)
{
  const CascadeStage *stage = &d->cascade->stages[si];
  const LbpStump *s = d->lbp_stumps + stage->first_tree;
  const LbpStump *end = s + stage->n_trees;
  __m256d tmp[2] = { _mm256_setzero_pd (), _mm256_setzero_pd () };

  for (; s < end; s++) {
    const gint32 *o = s->f.ofs;
    __m256i q[16], cval, v, word, in;
    gint j;

    for (j = 0; j < 16; j++)
      q[j] = load8 (p + o[j], step);
#define BLOCK(a, b, e, f) _mm256_add_epi32 (_mm256_sub_epi32 \
    (_mm256_sub_epi32 (q[a], q[b]), q[e]), q[f])
    /* the bit where block >= cval, i.e. not cval > block */
#define BIT(a, b, e, f, bit) _mm256_andnot_si256 (_mm256_cmpgt_epi32 (cval, \
    BLOCK (a, b, e, f)), _mm256_set1_epi32 (bit))
    cval = BLOCK (5, 6, 9, 10);
    v = _mm256_or_si256 (_mm256_or_si256 (_mm256_or_si256 (BIT (0, 1, 4, 5,
                    128), BIT (1, 2, 5, 6, 64)), _mm256_or_si256 (BIT (2, 3,
                    6, 7, 32), BIT (6, 7, 10, 11, 16))),
        _mm256_or_si256 (_mm256_or_si256 (BIT (10, 11, 14, 15, 8), BIT (9,
                    10, 13, 14, 4)), _mm256_or_si256 (BIT (8, 9, 12, 13, 2),
                BIT (4, 5, 8, 9, 1))));
#undef BIT
#undef BLOCK
    /* subset[v >> 5] & (1 << (v & 31)): the 8 subset words fit a register */
    word = _mm256_permutevar8x32_epi32 (_mm256_loadu_si256 ((const __m256i *)
            s->subset), _mm256_srli_epi32 (v, 5));
    in = _mm256_and_si256 (_mm256_srlv_epi32 (word, _mm256_and_si256 (v,
                _mm256_set1_epi32 (31))), _mm256_set1_epi32 (1));
    add_leaf8 (tmp, _mm256_blendv_ps (_mm256_set1_ps (s->right),
            _mm256_set1_ps (s->left),
            _mm256_castsi256_ps (_mm256_sub_epi32 (_mm256_setzero_si256 (),
                    in))));
  }
  return stage_reject8 (tmp, stage->threshold);
}

#undef AVX2
#endif /* HAVE_X86_SIMD */

/* The group kernels for this cascade and CPU, none for the scalar path;
 * FEMO_CASCADE_SIMD=0 forces the scalar path (tests compare the two). */
static void
choose_kernels (FemoDetector * d)
{
  const FemoCascade *c = d->cascade;
  const gchar *env = g_getenv ("FEMO_CASCADE_SIMD");

  d->norm8 = NULL;
  d->stage8 = NULL;
  if (!c->stumps || (env != NULL && strcmp (env, "0") == 0))
    return;
#if HAVE_X86_SIMD
  if (!__builtin_cpu_supports ("avx2"))
    return;
  if (c->kind == FEMO_CASCADE_HAAR) {
    d->norm8 = haar_norm8_avx2;
    d->stage8 = haar_stage8_avx2;
  } else if (c->subset_size == 8)
    d->stage8 = lbp_stage8_avx2;
#endif
}

/* ---- resize (cv::resize INTER_LINEAR_EXACT on 8U) ---- */

/* interpolationLinear::getCoeffs of OpenCV's bit-exact resize: source
 * position in double, weights in 8-bit fixed point rounded to even. */
static void
linear_coeffs (gint src, gint dst, gint pixel_stride, gint * ofs,
    guint16 * coef, gint * min_out, gint * max_out)
{
  gdouble scale = 1.0 / ((gdouble) dst / src);
  gint minofst = 0, maxofst = dst;
  gint v;

  for (v = 0; v < dst; v++) {
    gdouble fval = scale * ((gdouble) v + 0.5) - 0.5;
    gint ival = (gint) floor (fval);

    ofs[v] = 0;
    coef[2 * v] = 256;
    coef[2 * v + 1] = 0;
    if (ival >= 0 && src > 1) {
      if (ival < src - 1) {
        gint c1 = (gint) lrint ((fval - ival) * 256.0);
        ofs[v] = ival * pixel_stride;
        coef[2 * v + 1] = c1;
        coef[2 * v] = c1 < 256 ? 256 - c1 : 0;
      } else {
        ofs[v] = (src - 1) * pixel_stride;
        maxofst = MIN (maxofst, v);
      }
    } else {
      minofst = MAX (minofst, v + 1);
    }
  }
  *min_out = minofst;
  *max_out = maxofst;
}

static void
hline (const ScalePlan * s, const gint * xofs, const guint16 * xc,
    const guint8 * src, gint ps, guint16 * out)
{
  gint dx = 0;

  for (; dx < s->xmin; dx++)
    out[dx] = src[0] << 8;
  for (; dx < s->xmax; dx++) {
    const guint8 *px = src + xofs[dx];
    out[dx] = px[0] * xc[2 * dx] + px[ps] * xc[2 * dx + 1];
  }
  for (; dx < s->width; dx++)
    out[dx] = src[xofs[s->width - 1]] << 8;
}

static gint
get_line (Worker * w, const ScalePlan * s, gint row, gint keep)
{
  const FemoDetector *d = w->det;
  const FemoImageView *im = d->image;
  gint slot;

  if (w->line_row[0] == row)
    return 0;
  if (w->line_row[1] == row)
    return 1;
  slot = w->line_row[0] == keep ? 1 : 0;
  hline (s, d->res_ofs + s->xtab, d->res_coef + 2 * s->xtab,
      im->data + (gsize) row * im->stride, im->pixel_stride, w->lines[slot]);
  w->line_row[slot] = row;
  return slot;
}

/* Rows [r0, r1) of the resized image into w->img. */
static void
resize_rows (Worker * w, const ScalePlan * s, gint r0, gint r1)
{
  const FemoDetector *d = w->det;
  const FemoImageView *im = d->image;
  const gint ps = im->pixel_stride;
  gint dy, x;

  w->line_row[0] = w->line_row[1] = -1;
  for (dy = r0; dy < r1; dy++) {
    guint8 *out = w->img + (gsize) (dy - r0) * d->stride;

    if (s->mode == RESIZE_COPY) {
      const guint8 *src = im->data + (gsize) dy * im->stride;
      for (x = 0; x < s->width; x++)
        out[x] = src[x * ps];
    } else if (s->mode == RESIZE_AREA2) {
      const guint8 *a = im->data + (gsize) (2 * dy) * im->stride;
      const guint8 *b = a + im->stride;
      for (x = 0; x < s->width; x++)
        out[x] = (a[2 * x * ps] + a[(2 * x + 1) * ps] + b[2 * x * ps]
            + b[(2 * x + 1) * ps] + 2) >> 2;
    } else if (dy < s->ymin || dy >= s->ymax) {
      gint row = dy < s->ymin ? 0 : im->height - 1;
      const guint16 *l = w->lines[get_line (w, s, row, -1)];
      for (x = 0; x < s->width; x++)
        out[x] = (l[x] + 128) >> 8;
    } else {
      gint iy = d->res_ofs[s->ytab + dy] / ps;
      guint32 c0 = d->res_coef[2 * (s->ytab + dy)];
      guint32 c1 = d->res_coef[2 * (s->ytab + dy) + 1];
      const guint16 *l0 = w->lines[get_line (w, s, iy, iy + 1)];
      const guint16 *l1 = w->lines[get_line (w, s, iy + 1, iy)];
      for (x = 0; x < s->width; x++)
        out[x] = (l0[x] * c0 + l1[x] * c1 + 0x8000) >> 16;
    }
  }
}

/* ---- integral images of rows [0, rows) of w->img ---- */

static void
integrals (Worker * w, gint width, gint rows, gboolean tilted)
{
  const gint st = w->det->stride;
  guint32 *sum = w->sum, *sq = w->sqsum;
  guint32 *t = w->sum + w->det->tofs;
  gint x, y;

  memset (sum, 0, (width + 1) * sizeof (guint32));
  memset (sq, 0, (width + 1) * sizeof (guint32));
  for (y = 1; y <= rows; y++) {
    const guint8 *src = w->img + (gsize) (y - 1) * st;
    gsize at = (gsize) y * st;
    guint32 *srow = sum + at, *qrow = sq + at;
    guint32 s = 0, q = 0;

    srow[0] = qrow[0] = 0;
    for (x = 0; x < width; x++) {
      guint32 v = src[x];
      s += v;
      q += v * v;
      srow[x + 1] = srow[x + 1 - st] + s;
      qrow[x + 1] = qrow[x + 1 - st] + q;
    }
  }
  if (!tilted)
    return;

  /* T(X,Y) sums the upright triangle with its apex pixel at (X-1, Y-1):
   * T(X,Y) = T(X-1,Y-1) + T(X+1,Y-1) - T(X,Y-2) + I(X-1,Y-1) + I(X-1,Y-2),
   * where a triangle whose apex leaves the image on the left/right equals
   * the one a row higher and a column further in. */
  memset (t, 0, (width + 1) * sizeof (guint32));
  for (y = 1; y <= rows; y++) {
    guint32 *row = t + (gsize) y * st;
    const guint32 *up = row - st;
    const guint32 *up2 = y >= 2 ? row - 2 * st : NULL;
    const guint8 *i1 = w->img + (gsize) (y - 1) * st;
    const guint8 *i2 = y >= 2 ? i1 - st : NULL;

    for (x = 0; x <= width; x++) {
      guint32 a, b, c, v;
      a = x >= 1 ? up[x - 1] : (up2 ? up2[0] : 0);
      b = x < width ? up[x + 1] : (up2 ? up2[width] : 0);
      c = up2 ? up2[x] : 0;
      v = a + b - c;
      if (x >= 1) {
        v += i1[x - 1];
        if (i2)
          v += i2[x - 1];
      }
      row[x] = v;
    }
  }
}

/* ---- tasks ---- */

static void
add_rect (Worker * w, gint x, gint y, gint width, gint height)
{
  RawRect *r;

  if (w->out_of_memory || !grow ((gpointer *) & w->rects, &w->cap_rects,
          w->n_rects + 1, sizeof (RawRect))) {
    w->out_of_memory = TRUE;
    return;
  }
  r = &w->rects[w->n_rects++];
  r->x = x;
  r->y = y;
  r->width = width;
  r->height = height;
}

/* A row of windows by groups: stage 0 for all windows, which tells which
 * windows run_task would visit (a stage-0 rejection skips the next one);
 * then the later stages of each group while any of its windows is left.
 * Lanes of rejected windows compute in vain, but branch-free eight at a
 * time beats window by window even with one lane left. */
static void
run_row_groups (Worker * w, const ScalePlan * s, gint y, gsize row)
{
  const FemoDetector *d = w->det;
  const gint n_stages = d->cascade->n_stages;
  const gint step = s->ystep;
  const guint8 *lanes = lane_window[step - 1];
  const gint n = (s->work_width + step - 1) / step;
  const gint n_groups = (n + 7) / 8;
  guint8 *pass = w->stage0, *flat = w->stage0 + n_groups;
  gint g, k, l;

  for (g = 0; g < n_groups; g++) {
    const gsize at = row + (gsize) g * 8 * step;
    gfloat *vnf = w->vnf + g * 8;
    guint ok = 0xff, valid = 0xff;

    if (d->norm8)
      ok = d->norm8 (d, w->sum + at, w->sqsum + at, step, vnf);
    for (l = 0; l < 8 && 8 * g + 8 > n; l++)
      if (8 * g + lanes[l] >= n)
        valid &= ~(1u << l);
    pass[g] = valid & ok & ~d->stage8 (d, 0, w->sum + at, step, vnf);
    flat[g] = ~ok;
  }

  /* pass[] becomes the windows visited and past stage 0 */
  for (k = 0; k < n; k++) {
    guint bit = 1u << lanes[k & 7];
    if (flat[k >> 3] & bit)
      continue;
    if (!(pass[k >> 3] & bit) && ++k < n)
      pass[k >> 3] &= ~(1u << lanes[k & 7]);
  }

  for (g = 0; g < n_groups; g++) {
    const guint32 *p = w->sum + row + (gsize) g * 8 * step;
    const gfloat *vnf = w->vnf + g * 8;
    guint alive = pass[g];
    gint si = 1;

    for (; alive && si < n_stages; si++)
      alive &= ~d->stage8 (d, si, p, step, vnf);
    for (l = 0; l < 8; l++) {
      gint x = (8 * g + lanes[l]) * step;
      if (alive >> l & 1)
        add_rect (w, round_float ((gfloat) x * s->factor),
            round_float ((gfloat) y * s->factor), s->win_width,
            s->win_height);
    }
  }
}

static void
run_task (Worker * w, const Task * task)
{
  FemoDetector *d = w->det;
  const FemoCascade *c = d->cascade;
  const ScalePlan *s = &d->scales[task->scale];
  gint r0 = task->y0;
  gint r1 = MIN (task->y1 - 1 + c->win_height, s->height);
  gint x, y;

  resize_rows (w, s, r0, r1);
  integrals (w, s->width, r1 - r0, c->has_tilted);

  for (y = task->y0; y < task->y1; y += s->ystep) {
    const gsize row = (gsize) (y - r0) * d->stride;
    if (d->stage8) {
      run_row_groups (w, s, y, row);
      continue;
    }
    for (x = 0; x < s->work_width; x += s->ystep) {
      const guint32 *p = w->sum + row + x;
      const guint32 *pq = w->sqsum + row + x;
      gint result;

      if (!c->stumps)
        result = eval_trees (d, p, pq);
      else if (c->kind == FEMO_CASCADE_HAAR)
        result = eval_haar_stumps (d, p, pq);
      else
        result = eval_lbp_stumps (d, p);

      if (result > 0)
        add_rect (w, round_float ((gfloat) x * s->factor),
            round_float ((gfloat) y * s->factor), s->win_width, s->win_height);
      else if (result == 0)
        x += s->ystep;
    }
  }
}

static void
run_task_of_worker (gpointer data, guint worker, guint task)
{
  FemoDetector *d = data;

  run_task (&d->workers[worker], &d->tasks[task]);
}

static void
run_all (FemoDetector * d)
{
  guint i;

  for (i = 0; i < d->n_threads; i++) {
    d->workers[i].n_rects = 0;
    d->workers[i].out_of_memory = FALSE;
  }
  femo_workers_run (d->team, d->n_tasks, run_task_of_worker, d);
}

/* ---- planning ---- */

/* detectMultiScaleNoGrouping's scale list; FALSE out of memory. */
static gboolean
plan_scales (FemoDetector * d, const FemoDetectParams * params)
{
  const FemoCascade *c = d->cascade;
  const gint w = d->image->width, h = d->image->height;
  gint max_w = params->max_width, max_h = params->max_height;
  gfloat all[MAX_SCALES];
  gint n_all = 0, i;
  gdouble factor;

  if (max_w <= 0 || max_h <= 0) {
    max_w = w;
    max_h = h;
  }
  d->n_scales = 0;
  if (w < c->win_width || h < c->win_height)
    return TRUE;

  for (factor = 1; n_all < MAX_SCALES; factor *= params->scale_factor) {
    if (round_double (c->win_width * factor) > w
        || round_double (c->win_height * factor) > h)
      break;
    all[n_all++] = (gfloat) factor;
  }

  if (!grow ((gpointer *) & d->scales, &d->cap_scales, n_all + 1,
          sizeof (ScalePlan)))
    return FALSE;
  for (i = 0; i < n_all; i++) {
    gint ww = round_float (c->win_width * all[i]);
    gint wh = round_float (c->win_height * all[i]);
    if (ww > max_w || wh > max_h)
      break;
    if (ww < params->min_width || wh < params->min_height)
      continue;
    d->scales[d->n_scales++].factor = all[i];
  }

  /* OpenCV then falls back to the scale closest to minSize */
  if (d->n_scales == 0 && n_all > 0) {
    gint best = 0;
    gdouble best_d = 0;
    for (i = 0; i < n_all; i++) {
      gint dw = params->min_width - round_float (c->win_width * all[i]);
      gint dh = params->min_height - round_float (c->win_height * all[i]);
      gdouble dist = (gdouble) dw * dw + (gdouble) dh * dh;
      if (i == 0 || best_d > dist) {
        best = i;
        best_d = dist;
      }
    }
    d->scales[d->n_scales++].factor = all[best];
  }
  return TRUE;
}

/* Frees a worker's row buffers. */
static void
worker_free_rows (Worker * w)
{
  g_clear_pointer (&w->img, g_free);
  g_clear_pointer (&w->sum, g_free);
  g_clear_pointer (&w->sqsum, g_free);
  g_clear_pointer (&w->lines[0], g_free);
  g_clear_pointer (&w->lines[1], g_free);
  g_clear_pointer (&w->stage0, g_free);
  g_clear_pointer (&w->vnf, g_free);
}

/* Resize tables, tasks and row buffers for d->scales; FALSE out of
 * memory. */
static gboolean
plan_work (FemoDetector * d)
{
  const FemoCascade *c = d->cascade;
  const FemoImageView *im = d->image;
  gsize i, res = 0, need_rows = 0;
  gdouble total = 0, target;
  gint stride = 0;

  for (i = 0; i < d->n_scales; i++) {
    ScalePlan *s = &d->scales[i];
    s->width = round_float ((gfloat) im->width / s->factor);
    s->height = round_float ((gfloat) im->height / s->factor);
    s->ystep = s->factor >= 2 ? 1 : 2;
    s->win_width = round_float (c->win_width * s->factor);
    s->win_height = round_float (c->win_height * s->factor);
    s->work_width = MAX (s->width + 1 - c->win_width, 0);
    s->work_height = MAX (s->height + 1 - c->win_height, 0);
    if (s->width == im->width && s->height == im->height)
      s->mode = RESIZE_COPY;
    else if (s->width * 2 == im->width && s->height * 2 == im->height)
      s->mode = RESIZE_AREA2;   /* OpenCV takes INTER_AREA for exact halves */
    else
      s->mode = RESIZE_LINEAR;
    s->xtab = res;
    s->ytab = res + s->width;
    res += s->width + s->height;
    stride = MAX (stride, s->width + 1);
    total += (gdouble) s->work_width * s->work_height / (s->ystep * s->ystep);
  }

  if (res > d->cap_res) {
    /* the two tables have cap_res entries, or none */
    g_clear_pointer (&d->res_coef, g_free);
    if (!grow ((gpointer *) & d->res_ofs, &d->cap_res, res, sizeof (gint))
        || !(d->res_coef = g_try_new (guint16, 2 * d->cap_res))) {
      g_clear_pointer (&d->res_ofs, g_free);
      d->cap_res = 0;
      return FALSE;
    }
  }
  for (i = 0; i < d->n_scales; i++) {
    ScalePlan *s = &d->scales[i];
    if (s->mode != RESIZE_LINEAR)
      continue;
    linear_coeffs (im->width, s->width, im->pixel_stride,
        d->res_ofs + s->xtab, d->res_coef + 2 * s->xtab, &s->xmin, &s->xmax);
    linear_coeffs (im->height, s->height, im->pixel_stride,
        d->res_ofs + s->ytab, d->res_coef + 2 * s->ytab, &s->ymin, &s->ymax);
  }

  /* One stripe per scale on one thread; otherwise about 6 tasks per thread,
   * large scales cut into row stripes (each recomputes a window height of
   * rows, so no stripe is made shorter than 32 rows). A stripe's rows
   * (with the window height below it) take at most STRIPE_WORDS words of
   * each integral image, so that no frame size makes them larger (a
   * 32768-wide frame: 128 rows, 54 MB a worker with tilted features). */
  target = total / (d->n_threads * 6.0);
  d->n_tasks = 0;
  for (i = 0; i < d->n_scales; i++) {
    ScalePlan *s = &d->scales[i];
    gdouble area = (gdouble) s->work_width * s->work_height
        / (s->ystep * s->ystep);
    gint n_rows = (s->work_height + s->ystep - 1) / s->ystep;
    /* even, so that every stripe starts on the window grid */
    const gint max_stripe = MAX (STRIPE_WORDS / (s->width + 1)
        - c->win_height, 32) / 2 * 2;
    gint n_str = 1, stripe, y;

    if (s->work_width == 0 || s->work_height == 0)
      continue;
    if (d->n_threads > 1 && target > 0)
      n_str = (gint) MIN (ceil (area / target), n_rows);
    stripe = ((n_rows + n_str - 1) / MAX (n_str, 1)) * s->ystep;
    stripe = MIN (MAX (stripe, 32), max_stripe);
    for (y = 0; y < s->work_height; y += stripe) {
      Task *t;
      gint r1;
      if (!grow ((gpointer *) & d->tasks, &d->cap_tasks, d->n_tasks + 1,
              sizeof (Task)))
        return FALSE;
      t = &d->tasks[d->n_tasks++];
      t->scale = i;
      t->y0 = y;
      t->y1 = MIN (y + stripe, s->work_height);
      r1 = MIN (t->y1 - 1 + c->win_height, s->height);
      need_rows = MAX (need_rows, (gsize) (r1 - t->y0 + 1));
    }
  }

  /* buffers only grow, so that the feature tables rarely change */
  if (stride > d->stride || (gint) need_rows > d->rows) {
    guint k;
    d->stride = MAX (d->stride, stride);
    d->rows = MAX (d->rows, (gint) need_rows);
    d->tofs = (gsize) d->rows * d->stride;
    for (k = 0; k < d->n_threads; k++) {
      Worker *w = &d->workers[k];
      gsize words = (gsize) d->rows * d->stride;
      worker_free_rows (w);
      w->img = g_try_malloc (words);
      /* zeroed, and padded for the lanes past a row's last window */
      w->sum = g_try_malloc0_n ((c->has_tilted ? 2 * words : words)
          + ROW_PAD, sizeof (guint32));
      w->sqsum = g_try_malloc0_n (words + ROW_PAD, sizeof (guint32));
      w->lines[0] = g_try_malloc_n (d->stride, sizeof (guint16));
      w->lines[1] = g_try_malloc_n (d->stride, sizeof (guint16));
      w->stage0 = g_try_malloc (2 * (d->stride / 8 + 1));
      w->vnf = g_try_malloc_n (d->stride + 8, sizeof (gfloat));
      if (!w->img || !w->sum || !w->sqsum || !w->lines[0] || !w->lines[1]
          || !w->stage0 || !w->vnf) {
        /* none kept: the next call allocates them all again */
        for (k = 0; k < d->n_threads; k++)
          worker_free_rows (&d->workers[k]);
        d->stride = d->rows = 0;
        return FALSE;
      }
    }
  }
  update_opt (d);
  return TRUE;
}

/* ---- groupRectangles ---- */

static gint
uf_find (gint * parent, gint i)
{
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

static gboolean
similar_rects (const RawRect * a, const RawRect * b)
{
  gdouble delta = GROUP_EPS * (MIN (a->width, b->width)
      + MIN (a->height, b->height)) * 0.5;

  return ABS (a->x - b->x) <= delta && ABS (a->y - b->y) <= delta
      && ABS (a->x + a->width - b->x - b->width) <= delta
      && ABS (a->y + a->height - b->y - b->height) <= delta;
}

static gint
compare_raw_x (gconstpointer pa, gconstpointer pb)
{
  const RawRect *a = pa, *b = pb;

  if (a->x != b->x)
    return a->x < b->x ? -1 : 1;
  if (a->y != b->y)
    return a->y < b->y ? -1 : 1;
  if (a->width != b->width)
    return a->width < b->width ? -1 : 1;
  return a->height < b->height ? -1 : a->height > b->height;
}

/* The grouping arrays for @n candidates; FALSE out of memory. */
static gboolean
reserve_group (FemoDetector * d, gsize n)
{
  if (n <= d->cap_group)
    return TRUE;
  g_free (d->parent);
  g_free (d->class_of);
  g_free (d->class_sum);
  g_free (d->out);
  d->parent = g_try_new (gint, n);
  d->class_of = g_try_new (gint, n);
  d->class_sum = g_try_new (gint64, 5 * n);
  d->out = g_try_new (FemoRect, n);
  d->cap_group = d->parent && d->class_of && d->class_sum && d->out ? n : 0;
  return d->cap_group == n;
}

/* cv::groupRectangles (eps 0.2, no level weights), on d->cand with the
 * arrays of reserve_group. Returns the count in d->out. The classes are the
 * connected components of SimilarRects, which do not depend on the order
 * of the candidates. */
static gsize
group_rects (FemoDetector * d, gint threshold)
{
  gsize n = d->n_cand, i, j, n_classes = 0, n_out = 0;
  RawRect *r = d->cand;

  if (threshold <= 0) {
    for (i = 0; i < n; i++) {
      FemoRect *o = &d->out[i];
      o->x = r[i].x;
      o->y = r[i].y;
      o->width = r[i].width;
      o->height = r[i].height;
      o->neighbors = 1;
    }
    return n;
  }

  /* sorted by x, a rect can only be similar to those whose x is within its
   * largest possible delta */
  if (n > 1)
    qsort (r, n, sizeof (RawRect), compare_raw_x);
  for (i = 0; i < n; i++)
    d->parent[i] = i;
  for (i = 0; i < n; i++) {
    gdouble reach = GROUP_EPS * (r[i].width + r[i].height) * 0.5;
    for (j = i + 1; j < n && r[j].x - r[i].x <= reach; j++) {
      if (similar_rects (&r[i], &r[j])) {
        gint a = uf_find (d->parent, i), b = uf_find (d->parent, j);
        if (a != b)
          d->parent[MAX (a, b)] = MIN (a, b);
      }
    }
  }
  for (i = 0; i < n; i++) {
    gint root = uf_find (d->parent, i);
    if ((gsize) root == i) {
      d->class_of[i] = n_classes;
      memset (&d->class_sum[5 * n_classes], 0, 5 * sizeof (gint64));
      n_classes++;
    }
  }
  for (i = 0; i < n; i++) {
    gint64 *cs = &d->class_sum[5 * d->class_of[uf_find (d->parent, i)]];
    cs[0] += r[i].x;
    cs[1] += r[i].y;
    cs[2] += r[i].width;
    cs[3] += r[i].height;
    cs[4]++;
  }
  /* average as OpenCV: int sums times a float reciprocal, rounded */
  for (i = 0; i < n_classes; i++) {
    gint64 *cs = &d->class_sum[5 * i];
    gfloat s = 1.f / cs[4];
    cs[0] = round_float ((gfloat) (gint) cs[0] * s);
    cs[1] = round_float ((gfloat) (gint) cs[1] * s);
    cs[2] = round_float ((gfloat) (gint) cs[2] * s);
    cs[3] = round_float ((gfloat) (gint) cs[3] * s);
  }
  /* drop classes with too few members and small ones inside big ones */
  for (i = 0; i < n_classes; i++) {
    const gint64 *r1 = &d->class_sum[5 * i];
    gint n1 = r1[4];
    if (n1 <= threshold)
      continue;
    for (j = 0; j < n_classes; j++) {
      const gint64 *r2 = &d->class_sum[5 * j];
      gint n2 = r2[4], dx, dy;
      if (j == i || n2 <= threshold)
        continue;
      dx = round_double (r2[2] * GROUP_EPS);
      dy = round_double (r2[3] * GROUP_EPS);
      if (r1[0] >= r2[0] - dx && r1[1] >= r2[1] - dy
          && r1[0] + r1[2] <= r2[0] + r2[2] + dx
          && r1[1] + r1[3] <= r2[1] + r2[3] + dy
          && (n2 > MAX (3, n1) || n1 < 3))
        break;
    }
    if (j == n_classes) {
      FemoRect *o = &d->out[n_out++];
      o->x = r1[0];
      o->y = r1[1];
      o->width = r1[2];
      o->height = r1[3];
      o->neighbors = n1;
    }
  }
  return n_out;
}

static gint
compare_pos (gconstpointer pa, gconstpointer pb)
{
  const FemoRect *a = pa, *b = pb;

  if (a->y != b->y)
    return a->y < b->y ? -1 : 1;
  if (a->x != b->x)
    return a->x < b->x ? -1 : 1;
  if (a->width != b->width)
    return a->width < b->width ? -1 : 1;
  if (a->height != b->height)
    return a->height < b->height ? -1 : 1;
  return a->neighbors < b->neighbors ? -1 : a->neighbors > b->neighbors;
}

static gint
compare_area (gconstpointer pa, gconstpointer pb)
{
  const FemoRect *a = pa, *b = pb;
  gint64 sa = (gint64) a->width * a->height, sb = (gint64) b->width * b->height;

  if (sa != sb)
    return sa > sb ? -1 : 1;
  return compare_pos (pa, pb);
}

/* ---- public ---- */

FemoDetector *
femo_detector_new (FemoCascade * cascade, guint n_threads)
{
  FemoDetector *d;
  guint i;

  g_return_val_if_fail (cascade != NULL, NULL);
  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, 64);

  d = g_new0 (FemoDetector, 1);
  d->cascade = femo_cascade_ref (cascade);
  d->n_threads = n_threads;
  d->opt_stride = -1;
  choose_kernels (d);
  if (cascade->kind == FEMO_CASCADE_HAAR) {
    d->haar_opt = g_new0 (HaarOpt, cascade->n_features);
    if (cascade->stumps)
      d->haar_stumps = g_new0 (HaarStump, cascade->n_nodes);
  } else {
    d->lbp_opt = g_new0 (LbpOpt, cascade->n_features);
    if (cascade->stumps)
      d->lbp_stumps = g_new0 (LbpStump, cascade->n_nodes);
  }
  d->workers = g_new0 (Worker, n_threads);
  for (i = 0; i < n_threads; i++)
    d->workers[i].det = d;
  d->team = femo_workers_new (n_threads, "femo-cascade");
  return d;
}

void
femo_detector_free (FemoDetector * detector)
{
  guint i;

  if (detector == NULL)
    return;
  femo_workers_free (detector->team);
  for (i = 0; i < detector->n_threads; i++) {
    Worker *w = &detector->workers[i];
    worker_free_rows (w);
    g_free (w->rects);
  }
  g_free (detector->workers);
  g_free (detector->scales);
  g_free (detector->tasks);
  g_free (detector->res_ofs);
  g_free (detector->res_coef);
  g_free (detector->haar_opt);
  g_free (detector->haar_stumps);
  g_free (detector->lbp_opt);
  g_free (detector->lbp_stumps);
  g_free (detector->cand);
  g_free (detector->parent);
  g_free (detector->class_sum);
  g_free (detector->class_of);
  g_free (detector->out);
  femo_cascade_unref (detector->cascade);
  g_free (detector);
}

guint
femo_detector_get_n_threads (const FemoDetector * detector)
{
  g_return_val_if_fail (detector != NULL, 0);
  return detector->n_threads;
}

gsize
femo_detector_detect (FemoDetector * detector, const FemoImageView * image,
    const FemoDetectParams * params, FemoRect * faces, gsize capacity)
{
  GError *error = NULL;
  gsize n = femo_detector_detect_full (detector, image, params, faces,
      capacity, &error);

  /* no exit from a library: the caller sees no boxes, the log says why */
  if (error != NULL) {
    g_warning ("%s", error->message);
    g_error_free (error);
  }
  return n;
}

gsize
femo_detector_detect_full (FemoDetector * detector,
    const FemoImageView * image, const FemoDetectParams * params,
    FemoRect * faces, gsize capacity, GError ** error)
{
  FemoDetector *d = detector;
  gsize i, n_raw = 0, n, keep, k;

  g_return_val_if_fail (d != NULL, 0);
  g_return_val_if_fail (image != NULL && image->data != NULL, 0);
  g_return_val_if_fail (image->width > 0 && image->height > 0, 0);
  g_return_val_if_fail (image->width <= MAX_FRAME
      && image->height <= MAX_FRAME, 0);
  g_return_val_if_fail (image->pixel_stride >= 1, 0);
  g_return_val_if_fail (image->stride >= (gint64) (image->width - 1)
      * image->pixel_stride + 1, 0);
  g_return_val_if_fail (params != NULL, 0);
  g_return_val_if_fail (params->scale_factor >= MIN_SCALE_FACTOR
      && params->scale_factor < 100.0, 0);
  g_return_val_if_fail (faces != NULL || capacity == 0, 0);

  d->image = image;
  if (!plan_scales (d, params))
    goto out_of_memory;
  if (d->n_scales == 0) {
    d->image = NULL;
    return 0;
  }
  if (!plan_work (d))
    goto out_of_memory;
  run_all (d);
  d->image = NULL;

  for (i = 0; i < d->n_threads; i++) {
    if (d->workers[i].out_of_memory)
      goto out_of_memory;
    n_raw += d->workers[i].n_rects;
  }
  if (!grow ((gpointer *) & d->cand, &d->cap_cand, n_raw, sizeof (RawRect))
      || !reserve_group (d, n_raw))
    goto out_of_memory;
  d->n_cand = 0;
  for (i = 0; i < d->n_threads; i++) {
    if (d->workers[i].n_rects == 0)
      continue;
    memcpy (d->cand + d->n_cand, d->workers[i].rects,
        d->workers[i].n_rects * sizeof (RawRect));
    d->n_cand += d->workers[i].n_rects;
  }
  n = group_rects (d, params->min_neighbors);

  /* clipObjects: intersect with the image, drop empty ones */
  for (i = 0, k = 0; i < n; i++) {
    FemoRect r = d->out[i];
    gint x1 = MAX (r.x, 0), y1 = MAX (r.y, 0);
    gint x2 = MIN (r.x + r.width, image->width);
    gint y2 = MIN (r.y + r.height, image->height);
    if (x2 > x1 && y2 > y1) {
      r.x = x1;
      r.y = y1;
      r.width = x2 - x1;
      r.height = y2 - y1;
      d->out[k++] = r;
    }
  }
  n = k;

  keep = MIN (n, capacity);
  if (params->max_faces > 0)
    keep = MIN (keep, (gsize) params->max_faces);
  if (keep < n)
    qsort (d->out, n, sizeof (FemoRect), compare_area);
  if (keep > 1)
    qsort (d->out, keep, sizeof (FemoRect), compare_pos);
  if (keep > 0)
    memcpy (faces, d->out, keep * sizeof (FemoRect));
  return keep;

out_of_memory:
  d->image = NULL;
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY, "out of memory "
      "scanning a %dx%d frame (raw windows and row buffers): no boxes",
      image->width, image->height);
  return 0;
}
