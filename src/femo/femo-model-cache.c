/* gst-femo: one loaded emotion model per file, shared in the process
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-model-cache.h"

#include <glib/gstdio.h>

typedef struct
{
  gchar *path;
  gint64 mtime;
  goffset size;
  FemoModel *model;             /* the cache's own reference */
  guint users;
} CacheEntry;

static GMutex cache_lock;
static GPtrArray *cache_entries;        /* CacheEntry *, never empty */

static void
cache_entry_free (CacheEntry * entry)
{
  femo_model_unref (entry->model);
  g_free (entry->path);
  g_free (entry);
}

/* Size and modification time of @path; FALSE when it cannot be stat'ed (the
 * load that follows reports why). */
static gboolean
file_stamp (const gchar * path, gint64 * mtime, goffset * size)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return FALSE;
  *mtime = (gint64) st.st_mtime;
  *size = (goffset) st.st_size;
  return TRUE;
}

FemoModel *
femo_model_cache_acquire (const gchar * path, GError ** error)
{
  CacheEntry *entry = NULL;
  FemoModel *model;
  gint64 mtime = 0;
  goffset size = -1;
  guint i;

  g_return_val_if_fail (path != NULL, NULL);

  g_mutex_lock (&cache_lock);
  if (file_stamp (path, &mtime, &size) && cache_entries != NULL) {
    for (i = 0; i < cache_entries->len; i++) {
      CacheEntry *e = g_ptr_array_index (cache_entries, i);

      if (g_str_equal (e->path, path) && e->mtime == mtime && e->size == size) {
        entry = e;
        break;
      }
    }
  }
  if (entry == NULL) {
    /* Loading under the lock: two elements starting together load once. */
    model = femo_model_load (path, error);
    if (model == NULL) {
      g_mutex_unlock (&cache_lock);
      return NULL;
    }
    entry = g_new0 (CacheEntry, 1);
    entry->path = g_strdup (path);
    entry->mtime = mtime;
    entry->size = size;
    entry->model = model;
    if (cache_entries == NULL)
      cache_entries = g_ptr_array_new ();
    g_ptr_array_add (cache_entries, entry);
  }
  entry->users++;
  model = femo_model_ref (entry->model);
  g_mutex_unlock (&cache_lock);
  return model;
}

void
femo_model_cache_release (FemoModel * model)
{
  CacheEntry *entry = NULL;
  guint i;

  g_return_if_fail (model != NULL);

  g_mutex_lock (&cache_lock);
  for (i = 0; cache_entries != NULL && i < cache_entries->len; i++) {
    CacheEntry *e = g_ptr_array_index (cache_entries, i);

    if (e->model == model) {
      entry = e;
      break;
    }
  }
  g_warn_if_fail (entry != NULL);
  if (entry != NULL && --entry->users == 0) {
    g_ptr_array_remove_index_fast (cache_entries, i);
    if (cache_entries->len == 0)
      g_clear_pointer (&cache_entries, g_ptr_array_unref);
  } else {
    entry = NULL;
  }
  g_mutex_unlock (&cache_lock);

  if (entry != NULL)
    cache_entry_free (entry);
  femo_model_unref (model);
}

guint
femo_model_cache_get_n_models (void)
{
  guint n;

  g_mutex_lock (&cache_lock);
  n = cache_entries ? cache_entries->len : 0;
  g_mutex_unlock (&cache_lock);
  return n;
}

guint
femo_model_cache_get_n_users (const FemoModel * model)
{
  guint i, users = 0;

  g_mutex_lock (&cache_lock);
  for (i = 0; cache_entries != NULL && i < cache_entries->len; i++) {
    CacheEntry *e = g_ptr_array_index (cache_entries, i);

    if (e->model == model)
      users = e->users;
  }
  g_mutex_unlock (&cache_lock);
  return users;
}
