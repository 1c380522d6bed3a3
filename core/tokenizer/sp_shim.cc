// core/tokenizer/sp_shim.cc — SentencePiece behind the C functions of
// sp_shim.h: the one C++ file in heft (Debian's libsentencepiece is a C++
// library). No C++ exception or object crosses into C: failures come back as
// messages, ids as plain arrays.
#include "core/tokenizer/sp_shim.h"

#include <sentencepiece_processor.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

void say(char *msg, size_t cap, const std::string &what)
{
    std::snprintf(msg, cap, "%s", what.c_str());
}

const sentencepiece::SentencePieceProcessor *proc(const void *sp)
{
    return static_cast<const sentencepiece::SentencePieceProcessor *>(sp);
}

}  // namespace

extern "C" void *sp_shim_load(const char *path, char *msg, size_t cap)
{
    auto *sp = new (std::nothrow) sentencepiece::SentencePieceProcessor();
    if (!sp) {
        say(msg, cap, "out of memory for a SentencePiece model");
        return nullptr;
    }
    const auto status = sp->Load(path);
    if (!status.ok()) {
        say(msg, cap, std::string("tokenizer ") + path + ": not a SentencePiece model (" +
                          status.ToString() + ")");
        delete sp;
        return nullptr;
    }
    return sp;
}

extern "C" void sp_shim_free(void *sp)
{
    delete static_cast<sentencepiece::SentencePieceProcessor *>(sp);
}

extern "C" int sp_shim_vocab_size(const void *sp)
{
    return proc(sp)->GetPieceSize();
}

extern "C" int sp_shim_piece_id(const void *sp, const char *piece)
{
    const int id = proc(sp)->PieceToId(piece);
    // PieceToId answers unknown pieces with <unk>'s id.
    if (proc(sp)->IsUnknown(id) && proc(sp)->IdToPiece(id) != piece)
        return -1;
    return id;
}

// Where the first <unk> came from, for the message.
static std::string unk_place(const sentencepiece::SentencePieceProcessor *p,
                             const char *text, size_t n)
{
    sentencepiece::ImmutableSentencePieceText spt;
    if (!p->Encode(std::string_view(text, n), spt.mutable_proto()).ok())
        return "";
    for (const auto &piece : spt.pieces())
        if (p->IsUnknown(static_cast<int>(piece.id()))) {
            char buf[160];
            std::snprintf(buf, sizeof buf, " at byte %u ('%.40s')", piece.begin(),
                          piece.surface().c_str());
            return buf;
        }
    return "";
}

extern "C" int sp_shim_encode(const void *sp, const char *text, size_t n, struct id_buf *out,
                              char *msg, size_t cap)
{
    const auto *p = proc(sp);
    std::vector<int> ids;
    try {
        const auto status = p->Encode(std::string_view(text, n), &ids);
        if (!status.ok()) {
            say(msg, cap, "SentencePiece: " + status.ToString());
            return -1;
        }
    } catch (const std::bad_alloc &) {
        say(msg, cap, "out of memory in SentencePiece");
        return -1;
    }
    for (int id : ids)
        if (p->IsUnknown(id)) {
            say(msg, cap, "text the vocabulary cannot encode" + unk_place(p, text, n) +
                              ": SentencePiece gives <unk> (a model without byte fallback)");
            return -1;
        }
    if (id_buf_reserve(out, ids.size())) {
        say(msg, cap, "out of memory for token ids");
        return -1;
    }
    for (int id : ids)
        out->ids[out->n++] = static_cast<uint32_t>(id);
    return 0;
}

extern "C" int sp_shim_decode(const void *sp, const uint32_t *ids, size_t n, char **text,
                              size_t *len, char *msg, size_t cap)
{
    const auto *p = proc(sp);
    std::vector<int> v(ids, ids + n);
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0 || v[i] >= p->GetPieceSize()) {
            say(msg, cap, "id " + std::to_string(ids[i]) + " (position " + std::to_string(i) +
                              ") is outside the vocabulary of " +
                              std::to_string(p->GetPieceSize()));
            return -1;
        }
    std::string s;
    const auto status = p->Decode(v, &s);
    if (!status.ok()) {
        say(msg, cap, "SentencePiece: " + status.ToString());
        return -1;
    }
    *text = static_cast<char *>(std::malloc(s.size() + 1));
    if (!*text) {
        say(msg, cap, "out of memory");
        return -1;
    }
    std::memcpy(*text, s.data(), s.size());
    (*text)[s.size()] = '\0';
    *len = s.size();
    return 0;
}
