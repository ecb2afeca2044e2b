/* gst-femo: the data of a loaded OpenCV cascade, shared by its loader
 * (femo-cascade.c) and its detector (femo-cascade-detect.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-cascade.h"

G_BEGIN_DECLS

typedef struct
{
  gint x, y, width, height;
  gfloat weight;
} HaarRect;

typedef struct
{
  HaarRect rects[3];
  gboolean tilted;
} HaarFeature;

typedef struct
{
  gint x, y, width, height;
} LbpFeature;

typedef struct
{
  gint feature;
  gfloat threshold;             /* ordered (Haar) nodes */
  gint left, right;             /* > 0: node in the tree, <= 0: -leaf */
} CascadeNode;

typedef struct
{
  gint first_node;
  gint n_nodes;
  gint first_leaf;
} CascadeTree;

typedef struct
{
  gint first_tree;
  gint n_trees;
  gfloat threshold;
} CascadeStage;

struct _FemoCascade
{
  gint ref_count;
  FemoCascadeKind kind;
  gint win_width, win_height;
  gboolean has_tilted;
  gboolean stumps;              /* every tree is a single node */

  CascadeStage *stages;
  gint n_stages;
  CascadeTree *trees;
  gint n_trees;
  CascadeNode *nodes;
  gint n_nodes;
  gfloat *leaves;
  gint n_leaves;
  gint32 *subsets;              /* LBP: subset_size words per node */
  gint subset_size;

  HaarFeature *haar;
  LbpFeature *lbp;
  gint n_features;
};

G_END_DECLS
