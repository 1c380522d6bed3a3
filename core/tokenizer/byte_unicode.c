/* core/tokenizer/byte_unicode.c — see byte_unicode.h. */
#include "core/tokenizer/byte_unicode.h"

#include "core/tokenizer/utf8.h"

/* Bytes that print stand for themselves. */
static int prints(unsigned b)
{
    return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

uint32_t byte_to_unicode(unsigned char b)
{
    if (prints(b))
        return b;
    /* The others, in byte order, from U+0100: 0..32 are the first 33,
     * 127..160 the next 34, 173 the last. */
    if (b <= 0x20)
        return 0x100u + b;
    if (b <= 0xa0)
        return 0x100u + 33 + (b - 0x7fu);
    return 0x100u + 67; /* 0xad */
}

int unicode_to_byte(uint32_t cp)
{
    if (cp < 0x100)
        return prints(cp) ? (int)cp : -1;
    if (cp < 0x100 + 33)
        return (int)(cp - 0x100);
    if (cp < 0x100 + 67)
        return (int)(cp - 0x100 - 33 + 0x7f);
    if (cp == 0x100 + 67)
        return 0xad;
    return -1;
}

long byte_unicode_decode(const char *text, size_t n, unsigned char *out, uint32_t *bad_cp)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(text + i, n - i, &cp);
        if (len == 0) {
            *bad_cp = 0xffffffffu;
            return -1;
        }
        int b = unicode_to_byte(cp);
        if (b < 0) {
            *bad_cp = cp;
            return -1;
        }
        out[o++] = (unsigned char)b;
        i += len;
    }
    return (long)o;
}

size_t byte_unicode_encode(const unsigned char *bytes, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += utf8_encode(byte_to_unicode(bytes[i]), out + o);
    return o;
}
