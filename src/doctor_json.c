/* A small JSON reader for the doctor: validates a whole document (RFC 8259, without
 * checking that \u escapes form valid UTF-16) and picks one string value by its key path.
 * ICD manifests are a few hundred bytes; nothing here needs to be fast. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor.h"

#define JSON_MAX_DEPTH 32

struct json {
   const char *text, *p;
   const char *want; /* the key path sought */
   char path[256];   /* the current key path */
   char *out;
   size_t out_size;
   int found;
   char *err;
   size_t err_size;
   int depth;
};

static bool json_fail(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool json_fail(struct json *j, const char *fmt, ...)
{
   unsigned line = 1, col = 1;
   for (const char *q = j->text; q < j->p; q++) {
      col = *q == '\n' ? 1 : col + 1;
      line += *q == '\n';
   }
   char what[160];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(what, sizeof(what), fmt, ap);
   va_end(ap);
   snprintf(j->err, j->err_size, "line %u, column %u: %s", line, col, what);
   return false;
}

static void skip_space(struct json *j)
{
   while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
      j->p++;
}

/* A string literal at j->p; its unescaped text into buf (cut at size) when buf. */
static bool parse_string(struct json *j, char *buf, size_t size)
{
   size_t n = 0;
   if (*j->p != '"')
      return json_fail(j, "expected a string");
   j->p++;
   for (;;) {
      unsigned char ch = (unsigned char)*j->p;
      if (!ch)
         return json_fail(j, "unterminated string");
      if (ch < 0x20)
         return json_fail(j, "control character 0x%02x in a string", ch);
      j->p++;
      if (ch == '"')
         break;
      if (ch == '\\') {
         const char e = *j->p++;
         static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
         const char *k = e ? strchr(from, e) : NULL;
         if (k) {
            ch = (unsigned char)to[k - from];
         } else if (e == 'u') {
            for (int i = 0; i < 4; i++, j->p++)
               if (!*j->p || !strchr("0123456789abcdefABCDEF", *j->p))
                  return json_fail(j, "bad \\u escape");
            ch = '?'; /* paths and versions are ASCII; keep the text's length */
         } else {
            j->p -= e ? 1 : 0;
            return json_fail(j, "bad escape '\\%c'", e ? e : '0');
         }
      }
      if (buf && n + 1 < size)
         buf[n++] = (char)ch;
   }
   if (buf && size)
      buf[n] = '\0';
   return true;
}

static bool parse_number(struct json *j)
{
   const char *start = j->p;
   if (*j->p == '-')
      j->p++;
   if (*j->p == '0')
      j->p++;
   else if (*j->p >= '1' && *j->p <= '9')
      while (*j->p >= '0' && *j->p <= '9')
         j->p++;
   else
      return json_fail(j, "expected a value");
   if (*j->p == '.') {
      j->p++;
      if (!(*j->p >= '0' && *j->p <= '9'))
         return json_fail(j, "expected digits after '.'");
      while (*j->p >= '0' && *j->p <= '9')
         j->p++;
   }
   if (*j->p == 'e' || *j->p == 'E') {
      j->p++;
      if (*j->p == '+' || *j->p == '-')
         j->p++;
      if (!(*j->p >= '0' && *j->p <= '9'))
         return json_fail(j, "expected an exponent");
      while (*j->p >= '0' && *j->p <= '9')
         j->p++;
   }
   return j->p > start;
}

static bool parse_value(struct json *j);

static bool parse_object(struct json *j)
{
   j->p++; /* '{' */
   skip_space(j);
   if (*j->p == '}') {
      j->p++;
      return true;
   }
   const size_t base = strlen(j->path);
   for (;;) {
      skip_space(j);
      char key[128];
      if (!parse_string(j, key, sizeof(key)))
         return false;
      snprintf(j->path + base, sizeof(j->path) - base, "%s%s", base ? "." : "", key);
      skip_space(j);
      if (*j->p != ':')
         return json_fail(j, "expected ':' after key \"%s\"", key);
      j->p++;
      skip_space(j);
      if (!parse_value(j))
         return false;
      j->path[base] = '\0';
      skip_space(j);
      if (*j->p == '}') {
         j->p++;
         return true;
      }
      if (*j->p != ',')
         return json_fail(j, "expected ',' or '}' after the value of \"%s\"", key);
      j->p++;
   }
}

static bool parse_array(struct json *j)
{
   j->p++; /* '[' */
   skip_space(j);
   if (*j->p == ']') {
      j->p++;
      return true;
   }
   for (;;) {
      skip_space(j);
      if (!parse_value(j))
         return false;
      skip_space(j);
      if (*j->p == ']') {
         j->p++;
         return true;
      }
      if (*j->p != ',')
         return json_fail(j, "expected ',' or ']' in an array");
      j->p++;
   }
}

static bool parse_value(struct json *j)
{
   if (++j->depth > JSON_MAX_DEPTH)
      return json_fail(j, "nested more than %d deep", JSON_MAX_DEPTH);
   bool ok;
   if (*j->p == '{') {
      ok = parse_object(j);
   } else if (*j->p == '[') {
      ok = parse_array(j);
   } else if (*j->p == '"') {
      const bool wanted = !j->found && !strcmp(j->path, j->want);
      ok = parse_string(j, wanted ? j->out : NULL, j->out_size);
      j->found |= ok && wanted;
   } else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4)) {
      j->p += 4;
      ok = true;
   } else if (!strncmp(j->p, "false", 5)) {
      j->p += 5;
      ok = true;
   } else {
      ok = parse_number(j);
   }
   j->depth--;
   return ok;
}

int vd_json_find_string(const char *text, const char *path, char *out, size_t out_size, char *err,
                        size_t err_size)
{
   struct json j = { .text = text,
                     .p = text,
                     .want = path,
                     .out = out,
                     .out_size = out_size,
                     .err = err,
                     .err_size = err_size };
   if (out_size)
      out[0] = '\0';
   if (err_size)
      err[0] = '\0';
   skip_space(&j);
   if (!*j.p) {
      json_fail(&j, "empty document");
      return -1;
   }
   if (!parse_value(&j))
      return -1;
   skip_space(&j);
   if (*j.p) {
      json_fail(&j, "text after the end of the document");
      return -1;
   }
   return j.found;
}
