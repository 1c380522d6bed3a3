/* core/tokenizer/byte_unicode.h — GPT-2's bytes_to_unicode.
 *
 * Byte-level BPE vocabularies (GPT-2's vocab.json, Hugging Face's
 * tokenizer.json with a ByteLevel pre-tokenizer) write each token's bytes as
 * printable characters: the 188 bytes that print ('!'..'~', U+00A1..U+00AC,
 * U+00AE..U+00FF) stand for themselves, and the other 68 (0..32, 127..160,
 * 173) become U+0100.. in byte order, so the space is 'Ġ' (U+0120) and the
 * newline 'Ċ' (U+010A). heft computes the map arithmetically: no table. */
#ifndef HEFT_CORE_TOKENIZER_BYTE_UNICODE_H
#define HEFT_CORE_TOKENIZER_BYTE_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* The code point that stands for byte b. */
uint32_t byte_to_unicode(unsigned char b);
/* The byte a code point stands for, or -1 if it stands for none. */
int unicode_to_byte(uint32_t cp);

/* Token text (UTF-8 of mapped characters) -> the bytes it stands for.
 * out needs n bytes of room (each character gives one byte from at least one
 * byte of text). Returns the number of bytes, or -1 (with *bad_cp set, or
 * 0xFFFFFFFF for invalid UTF-8) when a character stands for no byte. */
long byte_unicode_decode(const char *text, size_t n, unsigned char *out, uint32_t *bad_cp);
/* Bytes -> token text; out needs 2n bytes of room. Returns the length. */
size_t byte_unicode_encode(const unsigned char *bytes, size_t n, char *out);

#endif
