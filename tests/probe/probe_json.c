/* berth-probe: a minimal JSON writer. Bytes >= 0x80 are escaped as \u00XX so the output is
 * always valid JSON whatever the kernel hands us (paths, environment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

static void Append(Json* j, const char* s, size_t n) {
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 4096;
    while (cap < j->len + n + 1) cap *= 2;
    char* nb = realloc(j->buf, cap);
    if (!nb) _exit(99); /* out of memory: nothing sensible to report */
    j->buf = nb;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = '\0';
}

static void AppendStr(Json* j, const char* s) { Append(j, s, strlen(s)); }

static void AppendQuoted(Json* j, const char* s, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  Append(j, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      Append(j, e, 2);
    } else if (c == '\n') {
      Append(j, "\\n", 2);
    } else if (c == '\t') {
      Append(j, "\\t", 2);
    } else if (c == '\r') {
      Append(j, "\\r", 2);
    } else if (c < 0x20 || c >= 0x7f) {
      char e[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      Append(j, e, 6);
    } else {
      Append(j, (const char*)&c, 1);
    }
  }
  Append(j, "\"", 1);
}

/* Comma and key before a member. */
static void Member(Json* j, const char* key) {
  if (j->depth > 0) {
    if (!j->first[j->depth]) Append(j, ",", 1);
    j->first[j->depth] = 0;
  }
  if (key) {
    AppendQuoted(j, key, strlen(key));
    Append(j, ":", 1);
  }
}

void JsonInit(Json* j) { memset(j, 0, sizeof *j); }

void JsonFree(Json* j) {
  free(j->buf);
  JsonInit(j);
}

static void Open(Json* j, const char* key, const char* bracket) {
  Member(j, key);
  AppendStr(j, bracket);
  if (j->depth < 63) j->depth++;
  j->first[j->depth] = 1;
}

static void Close(Json* j, const char* bracket) {
  if (j->depth > 0) j->depth--;
  AppendStr(j, bracket);
}

void JsonObjBegin(Json* j, const char* key) { Open(j, key, "{"); }
void JsonObjEnd(Json* j) { Close(j, "}"); }
void JsonArrBegin(Json* j, const char* key) { Open(j, key, "["); }
void JsonArrEnd(Json* j) { Close(j, "]"); }

void JsonStrN(Json* j, const char* key, const char* val, size_t n) {
  Member(j, key);
  AppendQuoted(j, val, n);
}

void JsonStr(Json* j, const char* key, const char* val) {
  if (!val) {
    JsonNull(j, key);
    return;
  }
  JsonStrN(j, key, val, strlen(val));
}

void JsonInt(Json* j, const char* key, long long v) {
  char b[32];
  snprintf(b, sizeof b, "%lld", v);
  Member(j, key);
  AppendStr(j, b);
}

void JsonUint(Json* j, const char* key, unsigned long long v) {
  char b[32];
  snprintf(b, sizeof b, "%llu", v);
  Member(j, key);
  AppendStr(j, b);
}

void JsonBool(Json* j, const char* key, int v) {
  Member(j, key);
  AppendStr(j, v ? "true" : "false");
}

void JsonNull(Json* j, const char* key) {
  Member(j, key);
  AppendStr(j, "null");
}

void JsonErrno(Json* j, const char* key, int err) {
  if (err == 0) {
    JsonNull(j, key);
  } else {
    JsonStr(j, key, ErrnoName(err));
  }
}

void JsonEmit(Json* j) { JsonEmitTo(j, 1); }

void JsonEmitTo(Json* j, int fd) {
  Append(j, "\n", 1);
  size_t off = 0;
  while (off < j->len) {
    ssize_t n = write(fd, j->buf + off, j->len - off);
    if (n <= 0) break; /* the reader is gone: nobody to tell */
    off += (size_t)n;
  }
  j->len = 0;
  j->depth = 0;
  j->first[0] = 1;
  if (j->buf) j->buf[0] = '\0';
}
