/* gst-femo: a small strict JSON reader (RFC 8259) for safetensors headers and
 * test references. GLib has none and the project takes no other library.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  FEMO_JSON_NULL,
  FEMO_JSON_BOOL,
  FEMO_JSON_INT,                /* a number with no fraction or exponent that fits gint64 */
  FEMO_JSON_DOUBLE,             /* any other number */
  FEMO_JSON_STRING,
  FEMO_JSON_ARRAY,
  FEMO_JSON_OBJECT,
} FemoJsonType;

typedef struct _FemoJson FemoJson;

/* Parses exactly one value (surrounding white space allowed). Duplicate object
 * keys, trailing commas, control characters in strings, bad escapes, nesting
 * deeper than 64 and trailing garbage are errors (FEMO_ERROR_PARSE), with the
 * byte offset in the message. The text need not be NUL-terminated. */
FemoJson *femo_json_parse (const gchar * text, gsize length, GError ** error);
void femo_json_free (FemoJson * json);

FemoJsonType femo_json_get_node_type (const FemoJson * node);
const gchar *femo_json_type_name (FemoJsonType type);
gboolean femo_json_get_bool (const FemoJson * node);
gint64 femo_json_get_int (const FemoJson * node);
/* For INT and DOUBLE nodes. */
gdouble femo_json_get_double (const FemoJson * node);
/* UTF-8, NUL-terminated; embedded NULs (\u0000) are rejected by the parser. */
const gchar *femo_json_get_string (const FemoJson * node);

/* Members of an ARRAY or OBJECT (0 for other types). */
guint femo_json_get_length (const FemoJson * node);
const FemoJson *femo_json_array_get (const FemoJson * node, guint index);
/* Object members keep their order in the text. */
const gchar *femo_json_object_key_at (const FemoJson * node, guint index);
const FemoJson *femo_json_object_value_at (const FemoJson * node, guint index);
/* NULL when absent or @node is not an object. */
const FemoJson *femo_json_object_get (const FemoJson * node, const gchar * key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoJson, femo_json_free)

G_END_DECLS
