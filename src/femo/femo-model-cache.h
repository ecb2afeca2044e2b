/* gst-femo: one loaded emotion model per file, shared in the process
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Elements that classify with the same weights file share one read-only
 * #FemoModel (each keeps its own #FemoInfer workspace). Entries are keyed by
 * the path as given and by the file's size and modification time, so a
 * model file replaced on disk is loaded afresh by the next acquire while the
 * elements still running keep the model they have. Thread-safe.
 */
#pragma once

#include "femo-net.h"

G_BEGIN_DECLS

/* The model of @path, loaded on first use: a new reference the caller gives
 * back with femo_model_cache_release(). NULL + @error (those of
 * femo_model_load) when it cannot be loaded; a failure is not cached. */
FemoModel *femo_model_cache_acquire (const gchar * path, GError ** error);
/* Gives back a model from femo_model_cache_acquire(); the last user of an
 * entry frees it. */
void femo_model_cache_release (FemoModel * model);
/* Models held by the cache now (for tests and debugging). */
guint femo_model_cache_get_n_models (void);
/* Users of the entry of @model, 0 when the cache does not hold it. */
guint femo_model_cache_get_n_users (const FemoModel * model);

G_END_DECLS
