/* gst-femo: a team of worker threads that share out numbered tasks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-workers.h"

typedef struct
{
  FemoWorkers *team;
  guint index;
  GThread *thread;
} Member;

struct _FemoWorkers
{
  guint n_threads;
  Member *members;
  GMutex lock;
  GCond start_cond, done_cond;
  guint generation, n_done;
  gboolean quit;
  /* the current run */
  gint next_task;
  guint n_tasks;
  FemoWorkersFunc func;
  gpointer data;
};

static void
run_tasks (FemoWorkers * w, guint worker)
{
  for (;;) {
    const gint t = g_atomic_int_add (&w->next_task, 1);
    if (t >= (gint) w->n_tasks)
      break;
    w->func (w->data, worker, t);
  }
}

static gpointer
member_main (gpointer data)
{
  Member *m = data;
  FemoWorkers *w = m->team;
  guint seen = 0;

  for (;;) {
    g_mutex_lock (&w->lock);
    while (w->generation == seen && !w->quit)
      g_cond_wait (&w->start_cond, &w->lock);
    if (w->quit) {
      g_mutex_unlock (&w->lock);
      break;
    }
    seen = w->generation;
    g_mutex_unlock (&w->lock);

    run_tasks (w, m->index);

    g_mutex_lock (&w->lock);
    if (++w->n_done == w->n_threads - 1)
      g_cond_signal (&w->done_cond);
    g_mutex_unlock (&w->lock);
  }
  return NULL;
}

FemoWorkers *
femo_workers_new (guint n_threads, const gchar * name)
{
  FemoWorkers *w;

  g_return_val_if_fail (n_threads >= 1, NULL);
  w = g_new0 (FemoWorkers, 1);
  w->n_threads = n_threads;
  g_mutex_init (&w->lock);
  g_cond_init (&w->start_cond);
  g_cond_init (&w->done_cond);
  w->members = g_new0 (Member, n_threads);
  for (guint i = 1; i < n_threads; i++) {
    w->members[i].team = w;
    w->members[i].index = i;
    w->members[i].thread = g_thread_new (name, member_main, &w->members[i]);
  }
  return w;
}

void
femo_workers_free (FemoWorkers * w)
{
  if (!w)
    return;
  g_mutex_lock (&w->lock);
  w->quit = TRUE;
  g_cond_broadcast (&w->start_cond);
  g_mutex_unlock (&w->lock);
  for (guint i = 1; i < w->n_threads; i++)
    g_thread_join (w->members[i].thread);
  g_free (w->members);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->start_cond);
  g_cond_clear (&w->done_cond);
  g_free (w);
}

void
femo_workers_run (FemoWorkers * w, guint n_tasks, FemoWorkersFunc func,
    gpointer data)
{
  /* a single task runs here, without waking anyone */
  const gboolean wake = w->n_threads > 1 && n_tasks > 1;

  w->func = func;
  w->data = data;
  w->n_tasks = n_tasks;
  w->next_task = 0;
  if (wake) {
    g_mutex_lock (&w->lock);
    w->n_done = 0;
    w->generation++;
    g_cond_broadcast (&w->start_cond);
    g_mutex_unlock (&w->lock);
  }
  run_tasks (w, 0);
  if (wake) {
    g_mutex_lock (&w->lock);
    while (w->n_done < w->n_threads - 1)
      g_cond_wait (&w->done_cond, &w->lock);
    g_mutex_unlock (&w->lock);
  }
}
