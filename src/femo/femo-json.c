/* gst-femo: a small strict JSON reader
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A recursive-descent parser into a tree of nodes. Objects keep their members
 * in text order; an object with more than a few members also gets a hash index,
 * so that the duplicate-key check and lookups stay linear in the header size
 * (a model's header has a hundred-odd tensor names).
 */
#include "femo-json.h"
#include "femo-error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
/* Objects with at least this many members get a hash index. */
#define INDEX_MIN 8

struct _FemoJson
{
  FemoJsonType type;
  union
  {
    gboolean b;
    gint64 i;
    gdouble d;
    gchar *s;
    struct
    {
      GPtrArray *values;        /* FemoJson* */
      GPtrArray *keys;          /* gchar*, objects only */
      GHashTable *index;        /* key -> 1 + position; NULL while small */
    } c;
  } v;
};

typedef struct
{
  const gchar *text;
  gsize length;
  gsize pos;
  GError **error;
} Parser;

static FemoJson *parse_value (Parser * p, guint depth);

static gboolean
fail (Parser * p, const gchar * what)
{
  if (p->error && *p->error == NULL)
    g_set_error (p->error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "JSON: %s at byte %" G_GSIZE_FORMAT, what, p->pos);
  return FALSE;
}

static void
skip_ws (Parser * p)
{
  while (p->pos < p->length) {
    gchar c = p->text[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    p->pos++;
  }
}

static gint
peek (Parser * p)
{
  return p->pos < p->length ? (guchar) p->text[p->pos] : -1;
}

static gboolean
expect_word (Parser * p, const gchar * word)
{
  gsize n = strlen (word);
  if (p->length - p->pos < n || memcmp (p->text + p->pos, word, n) != 0)
    return fail (p, "unexpected token");
  p->pos += n;
  return TRUE;
}

static FemoJson *
node_new (FemoJsonType type)
{
  FemoJson *node = g_new0 (FemoJson, 1);
  node->type = type;
  if (type == FEMO_JSON_ARRAY || type == FEMO_JSON_OBJECT) {
    node->v.c.values = g_ptr_array_new_with_free_func ((GDestroyNotify)
        femo_json_free);
    if (type == FEMO_JSON_OBJECT)
      node->v.c.keys = g_ptr_array_new_with_free_func (g_free);
  }
  return node;
}

void
femo_json_free (FemoJson * json)
{
  if (json == NULL)
    return;
  switch (json->type) {
    case FEMO_JSON_STRING:
      g_free (json->v.s);
      break;
    case FEMO_JSON_ARRAY:
    case FEMO_JSON_OBJECT:
      g_ptr_array_unref (json->v.c.values);
      if (json->v.c.keys)
        g_ptr_array_unref (json->v.c.keys);
      if (json->v.c.index)
        g_hash_table_unref (json->v.c.index);
      break;
    default:
      break;
  }
  g_free (json);
}

static gint
hex_digit (gint c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
parse_hex4 (Parser * p, gunichar * out)
{
  gunichar u = 0;
  if (p->length - p->pos < 4)
    return fail (p, "truncated \\u escape");
  for (gint i = 0; i < 4; i++) {
    gint h = hex_digit ((guchar) p->text[p->pos + i]);
    if (h < 0)
      return fail (p, "bad \\u escape");
    u = (u << 4) | (gunichar) h;
  }
  p->pos += 4;
  *out = u;
  return TRUE;
}

/* Returns a newly allocated UTF-8 string; p->pos is on the opening quote. */
static gchar *
parse_string (Parser * p)
{
  GString *s = g_string_sized_new (32);
  gsize start;

  p->pos++;
  start = p->pos;
  for (;;) {
    gint c = peek (p);
    if (c < 0) {
      fail (p, "unterminated string");
      goto error;
    }
    if (c == '"') {
      p->pos++;
      break;
    }
    if (c < 0x20) {
      fail (p, "control character in string");
      goto error;
    }
    if (c != '\\') {
      /* A run of plain characters in one append. */
      gsize run = p->pos;
      while (p->pos < p->length) {
        guchar d = (guchar) p->text[p->pos];
        if (d == '"' || d == '\\' || d < 0x20)
          break;
        p->pos++;
      }
      g_string_append_len (s, p->text + run, p->pos - run);
      continue;
    }
    p->pos++;
    c = peek (p);
    p->pos++;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        g_string_append_c (s, (gchar) c);
        break;
      case 'b':
        g_string_append_c (s, '\b');
        break;
      case 'f':
        g_string_append_c (s, '\f');
        break;
      case 'n':
        g_string_append_c (s, '\n');
        break;
      case 'r':
        g_string_append_c (s, '\r');
        break;
      case 't':
        g_string_append_c (s, '\t');
        break;
      case 'u':{
        gunichar u;
        if (!parse_hex4 (p, &u))
          goto error;
        if (u >= 0xD800 && u <= 0xDBFF) {
          gunichar lo;
          if (p->length - p->pos < 2 || p->text[p->pos] != '\\'
              || p->text[p->pos + 1] != 'u') {
            fail (p, "unpaired surrogate in \\u escape");
            goto error;
          }
          p->pos += 2;
          if (!parse_hex4 (p, &lo))
            goto error;
          if (lo < 0xDC00 || lo > 0xDFFF) {
            fail (p, "unpaired surrogate in \\u escape");
            goto error;
          }
          u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
          fail (p, "unpaired surrogate in \\u escape");
          goto error;
        }
        if (u == 0) {
          fail (p, "\\u0000 in string");
          goto error;
        }
        g_string_append_unichar (s, u);
        break;
      }
      default:
        p->pos--;
        fail (p, "bad escape in string");
        goto error;
    }
  }
  if (!g_utf8_validate (s->str, s->len, NULL)) {
    p->pos = start;
    fail (p, "string is not valid UTF-8");
    goto error;
  }
  return g_string_free (s, FALSE);

error:
  g_string_free (s, TRUE);
  return NULL;
}

static FemoJson *
parse_number (Parser * p)
{
  gsize start = p->pos;
  gboolean is_int = TRUE;
  gchar *buf, *end;
  FemoJson *node;

  if (peek (p) == '-')
    p->pos++;
  if (peek (p) == '0') {
    p->pos++;
  } else if (peek (p) >= '1' && peek (p) <= '9') {
    while (peek (p) >= '0' && peek (p) <= '9')
      p->pos++;
  } else {
    fail (p, "bad number");
    return NULL;
  }
  if (peek (p) == '.') {
    is_int = FALSE;
    p->pos++;
    if (!(peek (p) >= '0' && peek (p) <= '9')) {
      fail (p, "bad number fraction");
      return NULL;
    }
    while (peek (p) >= '0' && peek (p) <= '9')
      p->pos++;
  }
  if (peek (p) == 'e' || peek (p) == 'E') {
    is_int = FALSE;
    p->pos++;
    if (peek (p) == '+' || peek (p) == '-')
      p->pos++;
    if (!(peek (p) >= '0' && peek (p) <= '9')) {
      fail (p, "bad number exponent");
      return NULL;
    }
    while (peek (p) >= '0' && peek (p) <= '9')
      p->pos++;
  }

  buf = g_strndup (p->text + start, p->pos - start);
  if (is_int) {
    gint64 value;
    errno = 0;
    value = g_ascii_strtoll (buf, &end, 10);
    if (errno == 0 && *end == '\0') {
      g_free (buf);
      node = node_new (FEMO_JSON_INT);
      node->v.i = value;
      return node;
    }
    /* Too large for gint64: keep it as a double, like most readers. */
  }
  node = node_new (FEMO_JSON_DOUBLE);
  node->v.d = g_ascii_strtod (buf, &end);
  g_free (buf);
  return node;
}

/* Appends @key (taken) to an object's keys; FALSE, keeping nothing, when
 * the object has it already. Every earlier key has its value by then. */
static gboolean
add_key (FemoJson * node, gchar * key)
{
  GPtrArray *keys = node->v.c.keys;

  if (femo_json_object_get (node, key) != NULL)
    return FALSE;
  g_ptr_array_add (keys, key);
  if (node->v.c.index) {
    g_hash_table_insert (node->v.c.index, key, GUINT_TO_POINTER (keys->len));
  } else if (keys->len >= INDEX_MIN) {
    node->v.c.index = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < keys->len; i++)
      g_hash_table_insert (node->v.c.index, g_ptr_array_index (keys, i),
          GUINT_TO_POINTER (i + 1));
  }
  return TRUE;
}

static FemoJson *
parse_container (Parser * p, guint depth, gboolean is_object)
{
  FemoJson *node = node_new (is_object ? FEMO_JSON_OBJECT : FEMO_JSON_ARRAY);
  gchar close = is_object ? '}' : ']';

  if (depth >= MAX_DEPTH) {
    fail (p, "nesting too deep");
    goto error;
  }
  p->pos++;
  skip_ws (p);
  if (peek (p) == close) {
    p->pos++;
    return node;
  }
  for (;;) {
    FemoJson *value;
    skip_ws (p);
    if (is_object) {
      gchar *key;
      gsize key_pos = p->pos;
      if (peek (p) != '"') {
        fail (p, "expected a string key");
        goto error;
      }
      key = parse_string (p);
      if (key == NULL)
        goto error;
      if (!add_key (node, key)) {
        g_free (key);
        p->pos = key_pos;
        fail (p, "duplicate key");
        goto error;
      }
      skip_ws (p);
      if (peek (p) != ':') {
        fail (p, "expected ':'");
        goto error;
      }
      p->pos++;
    }
    value = parse_value (p, depth + 1);
    if (value == NULL)
      goto error;
    g_ptr_array_add (node->v.c.values, value);
    skip_ws (p);
    if (peek (p) == ',') {
      p->pos++;
      skip_ws (p);
      if (peek (p) == close) {
        fail (p, "trailing comma");
        goto error;
      }
      continue;
    }
    if (peek (p) == close) {
      p->pos++;
      return node;
    }
    fail (p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    goto error;
  }

error:
  /* A key may have been added without its value. */
  if (is_object && node->v.c.keys->len > node->v.c.values->len)
    g_ptr_array_set_size (node->v.c.keys, node->v.c.values->len);
  femo_json_free (node);
  return NULL;
}

static FemoJson *
parse_value (Parser * p, guint depth)
{
  FemoJson *node;
  gint c;

  skip_ws (p);
  c = peek (p);
  switch (c) {
    case '{':
      return parse_container (p, depth, TRUE);
    case '[':
      return parse_container (p, depth, FALSE);
    case '"':{
      gchar *s = parse_string (p);
      if (s == NULL)
        return NULL;
      node = node_new (FEMO_JSON_STRING);
      node->v.s = s;
      return node;
    }
    case 't':
    case 'f':
      if (!expect_word (p, c == 't' ? "true" : "false"))
        return NULL;
      node = node_new (FEMO_JSON_BOOL);
      node->v.b = c == 't';
      return node;
    case 'n':
      if (!expect_word (p, "null"))
        return NULL;
      return node_new (FEMO_JSON_NULL);
    case -1:
      fail (p, "unexpected end of text");
      return NULL;
    default:
      if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number (p);
      fail (p, "unexpected character");
      return NULL;
  }
}

FemoJson *
femo_json_parse (const gchar * text, gsize length, GError ** error)
{
  Parser p = { text, length, 0, error };
  FemoJson *root;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  root = parse_value (&p, 0);
  if (root == NULL)
    return NULL;
  skip_ws (&p);
  if (p.pos != p.length) {
    fail (&p, "trailing characters after the value");
    femo_json_free (root);
    return NULL;
  }
  return root;
}

FemoJsonType
femo_json_get_node_type (const FemoJson * node)
{
  return node->type;
}

const gchar *
femo_json_type_name (FemoJsonType type)
{
  static const gchar *const names[] = {
    "null", "boolean", "integer", "number", "string", "array", "object"
  };
  return (guint) type < G_N_ELEMENTS (names) ? names[type] : "unknown";
}

gboolean
femo_json_get_bool (const FemoJson * node)
{
  g_return_val_if_fail (node->type == FEMO_JSON_BOOL, FALSE);
  return node->v.b;
}

gint64
femo_json_get_int (const FemoJson * node)
{
  g_return_val_if_fail (node->type == FEMO_JSON_INT, 0);
  return node->v.i;
}

gdouble
femo_json_get_double (const FemoJson * node)
{
  if (node->type == FEMO_JSON_INT)
    return (gdouble) node->v.i;
  g_return_val_if_fail (node->type == FEMO_JSON_DOUBLE, 0.0);
  return node->v.d;
}

const gchar *
femo_json_get_string (const FemoJson * node)
{
  g_return_val_if_fail (node->type == FEMO_JSON_STRING, NULL);
  return node->v.s;
}

guint
femo_json_get_length (const FemoJson * node)
{
  if (node->type != FEMO_JSON_ARRAY && node->type != FEMO_JSON_OBJECT)
    return 0;
  return node->v.c.values->len;
}

const FemoJson *
femo_json_array_get (const FemoJson * node, guint index)
{
  g_return_val_if_fail (index < femo_json_get_length (node), NULL);
  return g_ptr_array_index (node->v.c.values, index);
}

const gchar *
femo_json_object_key_at (const FemoJson * node, guint index)
{
  g_return_val_if_fail (node->type == FEMO_JSON_OBJECT, NULL);
  g_return_val_if_fail (index < node->v.c.keys->len, NULL);
  return g_ptr_array_index (node->v.c.keys, index);
}

const FemoJson *
femo_json_object_value_at (const FemoJson * node, guint index)
{
  g_return_val_if_fail (node->type == FEMO_JSON_OBJECT, NULL);
  g_return_val_if_fail (index < node->v.c.values->len, NULL);
  return g_ptr_array_index (node->v.c.values, index);
}

const FemoJson *
femo_json_object_get (const FemoJson * node, const gchar * key)
{
  if (node == NULL || node->type != FEMO_JSON_OBJECT)
    return NULL;
  if (node->v.c.index) {
    guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (node->v.c.index, key));
    return pos ? g_ptr_array_index (node->v.c.values, pos - 1) : NULL;
  }
  for (guint i = 0; i < node->v.c.keys->len; i++)
    if (strcmp (g_ptr_array_index (node->v.c.keys, i), key) == 0)
      return g_ptr_array_index (node->v.c.values, i);
  return NULL;
}
