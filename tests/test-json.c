/* gst-femo tests: the strict JSON reader
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-json.h"
#include "femo-error.h"

#include <string.h>

static FemoJson *
parse (const gchar * text, GError ** error)
{
  return femo_json_parse (text, strlen (text), error);
}

static void
test_values (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoJson) root = parse (" {\"a\": [1, -2.5e1, true, false, null],"
      " \"b\": \"x\\u00e9\\ud83d\\ude00\\n\", \"big\": 12345678901234567890,"
      " \"empty\": {}, \"none\": []} ", &error);
  const FemoJson *a, *b;

  g_assert_no_error (error);
  g_assert_nonnull (root);
  g_assert_cmpint (femo_json_get_node_type (root), ==, FEMO_JSON_OBJECT);
  g_assert_cmpuint (femo_json_get_length (root), ==, 5);
  g_assert_cmpstr (femo_json_object_key_at (root, 1), ==, "b");
  a = femo_json_object_get (root, "a");
  g_assert_cmpuint (femo_json_get_length (a), ==, 5);
  g_assert_cmpint (femo_json_get_int (femo_json_array_get (a, 0)), ==, 1);
  g_assert_cmpfloat (femo_json_get_double (femo_json_array_get (a, 1)), ==,
      -25.0);
  g_assert_true (femo_json_get_bool (femo_json_array_get (a, 2)));
  g_assert_false (femo_json_get_bool (femo_json_array_get (a, 3)));
  g_assert_cmpint (femo_json_get_node_type (femo_json_array_get (a, 4)), ==,
      FEMO_JSON_NULL);
  b = femo_json_object_get (root, "b");
  g_assert_cmpstr (femo_json_get_string (b), ==, "x\xc3\xa9\xf0\x9f\x98\x80\n");
  g_assert_cmpint (femo_json_get_node_type (femo_json_object_get (root,
              "big")), ==, FEMO_JSON_DOUBLE);
  g_assert_cmpuint (femo_json_get_length (femo_json_object_get (root,
              "empty")), ==, 0);
  g_assert_null (femo_json_object_get (root, "missing"));
  g_assert_null (femo_json_object_get (a, "a"));
}

static void
test_errors (void)
{
  static const struct
  {
    const gchar *text;
    const gchar *message;
  } cases[] = {
    {"", "unexpected end of text at byte 0"},
    {"{\"a\":1,}", "trailing comma"},
    {"[1,]", "trailing comma"},
    {"{\"a\":1,\"a\":2}", "duplicate key at byte 7"},
    {"{\"a\" 1}", "expected ':'"},
    {"{1:2}", "expected a string key"},
    {"[1 2]", "expected ',' or ']'"},
    {"\"abc", "unterminated string"},
    {"\"a\tb\"", "control character"},
    {"\"\\x\"", "bad escape"},
    {"\"\\u12zz\"", "bad \\u escape"},
    {"\"\\u12\"", "truncated \\u escape"},
    {"\"\\ud800\"", "unpaired surrogate"},
    {"\"\\u0000\"", "\\u0000"},
    {"\"\xff\"", "not valid UTF-8"},
    {"01", "trailing characters"},
    {"1.", "bad number fraction"},
    {"1e", "bad number exponent"},
    {"-", "bad number"},
    {"tru", "unexpected token"},
    {"{} {}", "trailing characters"},
    {"@", "unexpected character"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    FemoJson *root = parse (cases[i].text, &error);
    g_assert_null (root);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_PARSE);
    if (strstr (error->message, cases[i].message) == NULL)
      g_error ("case %u (%s): message '%s' lacks '%s'", i, cases[i].text,
          error->message, cases[i].message);
  }
}

static void
test_depth (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) deep = g_string_new (NULL);
  FemoJson *root;

  for (gint i = 0; i < 1000; i++)
    g_string_append_c (deep, '[');
  root = femo_json_parse (deep->str, deep->len, &error);
  g_assert_null (root);
  g_assert_nonnull (strstr (error->message, "nesting too deep"));
}

static void
test_not_nul_terminated (void)
{
  g_autoptr (GError) error = NULL;
  const gchar text[] = { '[', '7', ']', 'x' };
  g_autoptr (FemoJson) root = femo_json_parse (text, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpint (femo_json_get_int (femo_json_array_get (root, 0)), ==, 7);
}

/* Objects past a few members are looked up through a hash index: the same
 * answers, duplicates found wherever they are, and escapes in keys decoded
 * before they are compared. */
static void
test_large_object (void)
{
  const guint n = 200;
  g_autoptr (GString) text = g_string_new ("{");
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoJson) root = NULL;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s\"k\\u00e9%u\": %u", i ? ", " : "", i,
        i * 3);
  g_string_append_c (text, '}');
  root = femo_json_parse (text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (femo_json_get_length (root), ==, n);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *key = g_strdup_printf ("k\xc3\xa9%u", i);
    g_assert_cmpstr (femo_json_object_key_at (root, i), ==, key);
    g_assert_cmpint (femo_json_get_int (femo_json_object_get (root, key)), ==,
        i * 3);
  }
  g_assert_null (femo_json_object_get (root, "k\xc3\xa9" "200"));
  g_assert_null (femo_json_object_get (root, "k200"));

  /* A duplicate early (linear lookups), just past the index threshold and
   * late, spelt once with an escape. */
  for (guint dup = 1; dup < n; dup += 61) {
    g_autoptr (GString) bad = g_string_new ("{");
    g_autoptr (GError) dup_error = NULL;
    g_autoptr (FemoJson) none = NULL;
    g_autofree gchar *where = NULL;
    gsize at = 0;

    for (guint i = 0; i <= dup; i++) {
      if (i == dup)
        at = bad->len + 2;
      g_string_append_printf (bad, "%s\"%s%u\": %u", i ? ", " : "",
          i == dup ? "\\u006b" : "k", i == dup ? dup / 2 : i, i);
    }
    g_string_append (bad, ", \"z\": 0}");
    none = femo_json_parse (bad->str, bad->len, &dup_error);
    g_assert_null (none);
    where = g_strdup_printf ("JSON: duplicate key at byte %" G_GSIZE_FORMAT,
        at);
    g_assert_cmpstr (dup_error->message, ==, where);
  }

  /* A key whose value fails to parse in a large (indexed) object: an error
   * and, under the sanitizers, no leak. */
  g_string_truncate (text, text->len - 1);
  g_string_append (text, ", \"last\": [1,}");
  g_clear_pointer (&root, femo_json_free);
  g_clear_error (&error);
  root = femo_json_parse (text->str, text->len, &error);
  g_assert_null (root);
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_PARSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/values", test_values);
  g_test_add_func ("/json/errors", test_errors);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/not-nul-terminated", test_not_nul_terminated);
  g_test_add_func ("/json/large-object", test_large_object);
  return g_test_run ();
}
