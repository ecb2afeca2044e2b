/* gst-femo: GstAnalyticsRelationMeta inside libgstfemo-1.0 (not installed)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * femo-analytics.c reads and writes the relation meta where the build found
 * gstreamer-analytics-1.0; femo-analytics-none.c stands in without it (the
 * writer's public functions, declared in femo-meta.h, live there too).
 */
#pragma once

#include "femo-meta.h"

G_BEGIN_DECLS

/* Reads the first object detection of @buffer's relation meta whose mtd id
 * is *@next_id or more, with a box of some area, into @face and moves
 * *@next_id past it. FALSE when there is none (or no relation meta). */
gboolean femo_analytics_read_detection (GstBuffer * buffer, guint * next_id,
    FemoFaceInfo * face);

G_END_DECLS
