/*
 * pm_escape.c — text that reaches a file or a terminal: string results and echoed input.
 *
 * Kept as they are: printable ASCII and valid UTF-8 of code points from U+00A0 on.
 * Escaped: \\ \n \t \r as before; every other byte below 0x20 and 0x7f as \xNN (lower-case hex);
 * the C1 controls U+0080-U+009F (some terminals obey them) as the \xNN of each of their two
 * bytes; and every byte that does not start a valid UTF-8 sequence (a stray continuation byte,
 * an overlong form, a surrogate, a code point above U+10FFFF, a sequence cut short) as \xNN,
 * one byte at a time. The output is thus valid UTF-8 with no control character, and the
 * escapes are unambiguous because a backslash is doubled.
 */
#include "pm_internal.h"

/* The length of the valid UTF-8 sequence of a code point from U+00A0 on that starts s[0..n),
   or 0. Follows the table of well-formed sequences in Unicode's chapter 3 (D92). */
static size_t utf8_printable_len(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        if (c == 0xc2) lo = 0xa0; /* C2 80..C2 9F are the C1 controls */
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;      /* overlong */
        else if (c == 0xed) hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;      /* overlong */
        else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

/* The length of the character at s[0..n) that is kept as it is, or 0 if s[0] is escaped. */
static size_t kept_len(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c >= 0x20 && c < 0x7f) return c == '\\' ? 0 : 1;
    return c >= 0x80 ? utf8_printable_len(s, n) : 0;
}

/* Appends s[0..n) escaped, stopping before input byte `max` (and before a character that would
   cross it); returns the number of input bytes consumed. */
static size_t add_escaped_upto(pm_buf *b, const uint8_t *s, size_t n, size_t max) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0; /* [run, i): bytes kept as they are, not appended yet */
    while (i < n && i < max) {
        size_t len = kept_len(s + i, n - i);
        if (len > 0) {
            if (i + len > max) break;
            i += len;
            continue;
        }
        pm_buf_add(b, s + run, i - run);
        char esc[4] = {'\\', 'x', hex[s[i] >> 4], hex[s[i] & 15]};
        size_t k = 2;
        switch (s[i]) {
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\t': esc[1] = 't'; break;
        case '\r': esc[1] = 'r'; break;
        default: k = 4; break;
        }
        pm_buf_add(b, esc, k);
        run = ++i;
    }
    pm_buf_add(b, s + run, i - run);
    return i;
}

void pm_buf_add_escaped(pm_buf *b, const char *s, size_t n) {
    add_escaped_upto(b, (const uint8_t *)s, n, n);
}

void pm_buf_add_clipped(pm_buf *b, const char *s, size_t n, size_t max) {
    if (add_escaped_upto(b, (const uint8_t *)s, n, max) < n) pm_buf_add(b, "...", 3);
}
