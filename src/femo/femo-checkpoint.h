/* gst-femo: the training checkpoint file (NAME.ckpt)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "FEMOCKPT", u32 version, u32 0, then sections each as u64 length + bytes:
 * the state (GKeyFile text, written by the trainer), the weights (a
 * safetensors file: the net with its batch-norm statistics and metadata),
 * the Adam moments (2 x n little-endian floats, m then v) and, once a run
 * averages weights, the average (n floats); then the SHA-256 of everything
 * before it, which catches truncation and any damage in between.
 */
#pragma once

#include "femo-net.h"
#include "femo-optim.h"

G_BEGIN_DECLS

#define FEMO_CHECKPOINT_VERSION 1

/**
 * FemoCheckpoint:
 * @state: the trainer's key file
 * @net: the weights
 * @moments: Adam's m then v, @n_moments floats in all
 * @swa: the weight average, @n_swa floats; NULL when the run has none yet
 *
 * A checkpoint as read; femo_checkpoint_clear() frees what it holds.
 */
typedef struct
{
  GKeyFile *state;
  FemoNet *net;
  gfloat *moments;
  gsize n_moments;
  gfloat *swa;
  gsize n_swa;
} FemoCheckpoint;

/* The file's bytes: @state, @net (serialized with its metadata), the
 * moments of @adam and, when not NULL, @swa (@adam->n floats). */
GBytes *femo_checkpoint_serialize (GKeyFile * state, FemoNet * net,
    const FemoAdam * adam, const gfloat * swa);

/* Reads and checks the file at @path into @checkpoint (zero-filled by the
 * caller; cleared by the caller on failure too). FEMO_ERROR_UNSUPPORTED for
 * another version, FEMO_ERROR_INVALID for a damaged file. */
gboolean femo_checkpoint_read (const gchar * path,
    FemoCheckpoint * checkpoint, GError ** error);
void femo_checkpoint_clear (FemoCheckpoint * checkpoint);

G_END_DECLS
