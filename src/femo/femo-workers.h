/* gst-femo: a team of worker threads that share out numbered tasks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The threads are started once and wait between runs; a run hands out
 * tasks 0 .. n-1 in order to whichever thread is free, the calling thread
 * taking part, and returns when all are done. Who runs which task varies
 * from run to run: a task's result must not depend on it (per-worker
 * scratch is indexed by the worker number the function is given).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _FemoWorkers FemoWorkers;

/* @worker: 0 .. n_threads - 1 (0 is the thread that called run) */
typedef void (*FemoWorkersFunc) (gpointer data, guint worker, guint task);

/* @n_threads: 1 or more, the caller included (so n_threads - 1 threads
 * are started, named @name). */
FemoWorkers *femo_workers_new (guint n_threads, const gchar * name);
void femo_workers_free (FemoWorkers * workers);
/* @func (@data, worker, task) once for each task in [0, @n_tasks); one run
 * at a time. */
void femo_workers_run (FemoWorkers * workers, guint n_tasks,
    FemoWorkersFunc func, gpointer data);

G_END_DECLS
