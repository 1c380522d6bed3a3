/* core/tokenizer/utf8.h — UTF-8 as the tokenizer needs it: where the valid
 * text ends (PCRE2 in UTF mode must only see valid UTF-8), one code point
 * at a time, and code points back to bytes. Valid means RFC 3629: shortest
 * form, no surrogates, nothing above U+10FFFF — what PCRE2 accepts. */
#ifndef HEFT_CORE_TOKENIZER_UTF8_H
#define HEFT_CORE_TOKENIZER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the longest valid UTF-8 prefix of s[0..n). */
size_t utf8_valid_prefix(const char *s, size_t n);
/* Decodes the valid sequence at s (of at most n bytes): its code point and
 * length, or length 0 when it is not valid UTF-8. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Writes code point cp (< 0x110000) as UTF-8 to out (4 bytes of room);
 * returns the length. */
size_t utf8_encode(uint32_t cp, char *out);

#endif
