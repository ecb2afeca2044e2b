/* gst-femo fuzzing: the loaders' fuzz targets, shared by the libFuzzer
 * executables (tests/fuzz, clang) and the corpus replay test (any compiler).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each target feeds one input to one loader and, when it loads, uses what
 * was loaded a little (a detection, an inference), so that a loader that
 * accepts inconsistent data is caught where the data is used. A target
 * never fails on bad input: only a crash, a sanitizer report or a leak is
 * a finding. It returns 0, as libFuzzer wants.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* femo_cascade_new_from_data, then one detection on a small image. */
int femo_fuzz_cascade (const guint8 * data, gsize size);
/* femo_safetensors_parse, then on what it accepts femo_net_load_from_safetensors
 * and femo_model_new_from_net (the two steps of femo_model_load_from_data) and
 * one inference when the model loads. */
int femo_fuzz_safetensors (const guint8 * data, gsize size);
/* femo_fer_load_stream (strict and skipping bad rows; gzip when the input
 * starts with its magic) and femo_ferplus_load_stream. */
int femo_fuzz_fer_csv (const guint8 * data, gsize size);
/* A short stream of frames through femo_analyzer_process with the default
 * cascade or YuNet's shipped weights and a narrow model of the shipped
 * emotion model's shape (fuzz-femodetect.c describes the input). */
int femo_fuzz_femodetect (const guint8 * data, gsize size);

/* libFuzzer's entry point, defined once per fuzzer executable. */
#define FEMO_FUZZ_ENTRY_POINT(target) \
  int LLVMFuzzerTestOneInput (const guint8 * data, gsize size); \
  int LLVMFuzzerTestOneInput (const guint8 * data, gsize size) \
  { \
    return target (data, size); \
  }

G_END_DECLS
