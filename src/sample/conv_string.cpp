// HAProxy's string converters: case, slicing, regsub, JSON and URL escaping, Host header
// splitting, concatenation and comparison with variables (hex and base64 live with the hashes
// in conv_hash.cpp). Each behaves as its HAProxy 2.6 namesake, odd corners included (field vs
// word on repeated delimiters, regsub on empty matches), since configs rely on them.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/sample/registry.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::sample {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Reads a variable as a string for concat and strcmp; false when unset or not castable.
bool var_as(Context& ctx, const VarRef& ref, Type type, Sample& out) {
    return read_var(ctx, ref, out) && cast(out, type, ctx.arena());
}

util::Status prepare_var_arg(Args& args, std::size_t index) {
    auto ref = parse_var_name(args.list[index].text);
    if (!ref) return util::error(ref.error());
    args.prepared = std::make_shared<const VarRef>(std::move(*ref));
    return util::ok();
}

// --- case and length -----------------------------------------------------------------------

template <char From, char To>
bool conv_case(const Args&, Context& ctx, Sample& s) {
    std::string& buf = ctx.arena().take();
    buf.assign(s.str);
    for (char& c : buf)
        if (c >= From && c <= From + 25) c = static_cast<char>(c - From + To);
    s = Sample::string(buf);
    return true;
}

bool conv_length(const Args&, Context&, Sample& s) {
    s = Sample::integer(static_cast<std::int64_t>(s.str.size()));
    return true;
}

// --- bytes, field, word ----------------------------------------------------------------------

util::Status prepare_bytes(Args& args) {
    if (args.list[0].sint < 0) return util::error("offset must not be negative");
    if (const Arg* len = args.at(1); len && len->sint < 0)
        return util::error("length must not be negative");
    return util::ok();
}

bool conv_bytes(const Args& args, Context&, Sample& s) {
    const auto offset = static_cast<std::uint64_t>(args.list[0].sint);
    if (offset >= s.str.size()) {
        s.str = {};
    } else {
        s.str.remove_prefix(offset);
        if (const Arg* len = args.at(1);
            len && static_cast<std::uint64_t>(len->sint) < s.str.size())
            s.str = s.str.substr(0, static_cast<std::size_t>(len->sint));
    }
    s.type = Type::Bin;
    return true;
}

struct Split {
    std::int64_t index = 0;
    std::int64_t count = 1;
    std::array<bool, 256> delim{};
    bool is_delim(char c) const { return delim[static_cast<unsigned char>(c)]; }
};

util::Status prepare_split(Args& args) {
    Split sp;
    sp.index = args.list[0].sint;
    if (sp.index == 0) return util::error("index must not be 0 (fields count from 1 or -1)");
    if (args.list[1].text.empty()) return util::error("the list of delimiters is empty");
    for (char c : args.list[1].text)
        sp.delim[static_cast<unsigned char>(c)] = true;
    if (const Arg* count = args.at(2)) sp.count = count->sint;
    args.prepared = std::make_shared<const Split>(sp);
    return util::ok();
}

// A count of 0 (or, as in HAProxy, a negative one) takes every remaining field: the scan never
// stops early and the result runs to the end (or the start) of the input.
bool conv_field(const Args& args, Context&, Sample& s) {
    const Split& sp = args.state<Split>();
    const std::string_view in = s.str;
    std::int64_t count = sp.count;
    std::int64_t field;
    std::size_t start, end;
    if (sp.index > 0) {
        field = 1;
        start = 0;
        for (end = 0; end < in.size(); ++end) {
            if (!sp.is_delim(in[end])) continue;
            if (field != sp.index) {
                start = end + 1;
                ++field;
            } else if (count == 1) {
                break;
            } else if (count > 1) {
                --count;
            }
        }
    } else {
        field = -1;
        end = in.size();
        for (start = in.size(); start > 0; --start) {
            if (!sp.is_delim(in[start - 1])) continue;
            if (field != sp.index) {
                end = start - 1;
                --field;
            } else if (count == 1) {
                break;
            } else if (count > 1) {
                --count;
            }
        }
    }
    if (field != sp.index) return false;
    s.str = in.substr(start, end - start);
    return true;
}

// Unlike field, runs of delimiters count as one and leading/trailing ones are skipped.
bool conv_word(const Args& args, Context&, Sample& s) {
    const Split& sp = args.state<Split>();
    const std::string_view in = s.str;
    std::int64_t count = sp.count;
    std::int64_t word = 0;
    bool in_word = false;
    std::size_t start = 0, end = 0;
    auto step = [&](char c, std::size_t here, bool forward) {
        const bool sep = sp.is_delim(c);
        if (!in_word) {
            if (sep) return false;
            if (word != sp.index) {
                word += forward ? 1 : -1;
                (forward ? start : end) = here;
            }
            in_word = true;
        } else if (sep) {
            if (word == sp.index) {
                if (count == 1) return true;
                if (count > 1) --count;
            }
            in_word = false;
        }
        return false;
    };
    bool found = false;
    if (sp.index > 0) {
        for (end = 0; end < in.size() && !(found = step(in[end], end, true)); ++end) {
        }
    } else {
        end = in.size();
        for (start = in.size(); start > 0 && !(found = step(in[start - 1], start, false));
             --start) {
        }
    }
    if (!found && word != sp.index) return false;
    s.str = in.substr(start, end - start);
    return true;
}

// --- regsub ----------------------------------------------------------------------------------

// HAProxy captures at most 10 groups (\0 to \9).
constexpr std::uint32_t kMaxGroups = 10;

struct Regsub {
    struct Piece {
        std::string text;
        int group = -1;  // >= 0: a back-reference instead of text
    };
    std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> code{nullptr, pcre2_code_free};
    std::vector<Piece> subst;
    bool global = false;
};

// The substitution's escapes as HAProxy reads them: \0-\9 a group, \xHH a byte, \c the
// character c. Parsed once so evaluations only copy.
util::Status parse_subst(std::string_view text, std::vector<Regsub::Piece>& out) {
    auto literal = [&]() -> std::string& {
        if (out.empty() || out.back().group >= 0) out.push_back({});
        return out.back().text;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            literal().push_back(text[i]);
            continue;
        }
        if (++i == text.size()) return util::error("the substitution ends with a lone '\\'");
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            out.push_back({.text = {}, .group = c - '0'});
        } else if (c == 'x') {
            const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
            const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return util::error("'\\x' in the substitution must be followed by two hex digits");
            literal().push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            literal().push_back(c);
        }
    }
    return util::ok();
}

util::Status prepare_regsub(Args& args) {
    auto st = std::make_shared<Regsub>();
    std::uint32_t options = 0;
    if (const Arg* flags = args.at(2)) {
        for (char f : flags->text) {
            if (f == 'i') {
                options |= PCRE2_CASELESS;
            } else if (f == 'g') {
                st->global = true;
            } else {
                return util::error(
                    fmt::format("invalid regex flag '{}', only 'i' and 'g' are supported", f));
            }
        }
    }
    const std::string& pattern = args.list[0].text;
    int err = 0;
    PCRE2_SIZE offset = 0;
    st->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 options, &err, &offset, nullptr));
    if (!st->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return util::error(fmt::format("invalid regex '{}' at offset {}: {}", pattern, offset,
                                       reinterpret_cast<const char*>(msg)));
    }
    // Without JIT (unsupported CPU) the interpreter still matches, only slower.
    (void)pcre2_jit_compile(st->code.get(), PCRE2_JIT_COMPLETE);
    if (auto s = parse_subst(args.list[1].text, st->subst); !s) return s;
    args.prepared = std::move(st);
    return util::ok();
}

// Match data is per thread so that evaluations allocate nothing.
pcre2_match_data* thread_match_data() {
    thread_local std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md{
        pcre2_match_data_create(kMaxGroups, nullptr), pcre2_match_data_free};
    return md.get();
}

// HAProxy's loop: each round matches what is left of the input (later rounds with NOTBOL, so
// '^' only anchors at the real start), copies the text before the match and the substitution,
// and an empty match at the round's start also copies one character to make progress.
bool conv_regsub(const Args& args, Context& ctx, Sample& s) {
    const Regsub& st = args.state<Regsub>();
    pcre2_match_data* md = thread_match_data();
    if (!md) return false;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const char* subject = s.str.empty() ? "" : s.str.data();
    const std::size_t end = s.str.size();
    std::string& out = ctx.arena().take();
    std::size_t start = 0;
    bool notbol = false;
    for (;;) {
        int rc = PCRE2_ERROR_NOMATCH;
        if (st.global || !notbol) {
            rc = pcre2_match(st.code.get(), reinterpret_cast<PCRE2_SPTR>(subject + start),
                             end - start, 0, notbol ? PCRE2_NOTBOL : 0, md, nullptr);
        }
        const bool found = rc >= 0;
        out.append(subject + start, found ? ov[0] : end - start);
        if (!found) break;
        // rc == 0: more groups than the ovector holds; the first ten are still set.
        const std::uint32_t groups = rc == 0 ? kMaxGroups : static_cast<std::uint32_t>(rc);
        for (const Regsub::Piece& p : st.subst) {
            if (p.group < 0) {
                out.append(p.text);
            } else if (static_cast<std::uint32_t>(p.group) < groups &&
                       ov[2 * p.group] != PCRE2_UNSET) {
                out.append(subject + start + ov[2 * p.group],
                           ov[2 * p.group + 1] - ov[2 * p.group]);
            }
        }
        if (start >= end) break;
        std::size_t advance = ov[1];
        if (advance == 0) {
            out.push_back(subject[start]);
            advance = 1;
        }
        start += advance;
        notbol = true;
    }
    s = Sample::string(out);
    return true;
}

// --- json ------------------------------------------------------------------------------------

enum class JsonInput : std::uint8_t { Ascii, Utf8, Utf8s, Utf8p, Utf8ps };

util::Status prepare_json(Args& args) {
    static constexpr std::pair<std::string_view, JsonInput> kNames[] = {
        {"", JsonInput::Ascii},      {"ascii", JsonInput::Ascii}, {"utf8", JsonInput::Utf8},
        {"utf8s", JsonInput::Utf8s}, {"utf8p", JsonInput::Utf8p}, {"utf8ps", JsonInput::Utf8ps},
    };
    const std::string_view name = args.at(0) ? std::string_view(args.list[0].text) : "";
    for (const auto& [n, mode] : kNames) {
        if (n == name) {
            args.prepared = std::make_shared<const JsonInput>(mode);
            return util::ok();
        }
    }
    return util::error(fmt::format(
        "unexpected input code '{}': expected ascii, utf8, utf8s, utf8p or utf8ps", name));
}

enum Utf8Error : unsigned { kUtf8Ok = 0, kBadSeq = 1, kInvRange = 2, kOverlong = 4 };

// One UTF-8 sequence as HAProxy's decoder reads it (5- and 6-byte forms included): returns the
// error bits and sets `len` to the bytes consumed, which for a broken sequence stops before
// the first byte that does not fit.
unsigned utf8_next(std::string_view in, std::size_t& len, std::uint32_t& c) {
    const auto b = static_cast<unsigned char>(in[0]);
    len = 1;
    c = b;
    std::size_t extra;
    if (b < 0x80) return kUtf8Ok;
    if (b < 0xc0 || b >= 0xfe) return kBadSeq;
    if (b < 0xe0) {
        extra = 1, c = b & 0x1f;
    } else if (b < 0xf0) {
        extra = 2, c = b & 0x0f;
    } else if (b < 0xf8) {
        extra = 3, c = b & 0x07;
    } else if (b < 0xfc) {
        extra = 4, c = b & 0x03;
    } else {
        extra = 5, c = b & 0x01;
    }
    if (in.size() < extra + 1) {
        c = b;
        return kBadSeq;
    }
    for (std::size_t i = 1; i <= extra; ++i) {
        const auto cb = static_cast<unsigned char>(in[i]);
        if ((cb & 0xc0) != 0x80) return kBadSeq;
        c = (c << 6) | (cb & 0x3f);
        ++len;
    }
    unsigned code = kUtf8Ok;
    if ((c <= 0x7f && len > 1) || (c >= 0x80 && c <= 0x7ff && len > 2) ||
        (c >= 0x800 && c <= 0xffff && len > 3) || (c >= 0x10000 && c <= 0x1fffff && len > 4))
        code |= kOverlong;
    if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff) code |= kInvRange;
    return code;
}

bool conv_json(const Args& args, Context& ctx, Sample& s) {
    const JsonInput mode = args.state<JsonInput>();
    std::string& out = ctx.arena().take();
    std::string_view in = s.str;
    while (!in.empty()) {
        std::uint32_t c = static_cast<unsigned char>(in[0]);
        std::size_t len = 1;
        if (mode != JsonInput::Ascii) {
            const unsigned err = utf8_next(in, len, c);
            // The "p" modes accept overlong forms; the "s" modes drop what they reject rather
            // than fail. JSON's \uXXXX cannot say more than 16 bits.
            const bool permissive = mode == JsonInput::Utf8p || mode == JsonInput::Utf8ps;
            const unsigned rejected = permissive ? (err & (kBadSeq | kInvRange)) : err;
            if (rejected || c > 0xffff) {
                if (mode == JsonInput::Utf8 || mode == JsonInput::Utf8p) return false;
                in.remove_prefix(len);
                continue;
            }
        }
        in.remove_prefix(len);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '/':
                out += "\\/";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c >= 0x20 && c < 0x7f) {
                    out.push_back(static_cast<char>(c));
                } else {
                    out += "\\u";
                    for (int shift = 12; shift >= 0; shift -= 4)
                        out.push_back(kHexLower[(c >> shift) & 15]);
                }
        }
    }
    s = Sample::string(out);
    return true;
}

// --- URL encodings ----------------------------------------------------------------

// A '%' not followed by two hex digits makes the sample fail; '+' becomes a space in a form or
// after the first '?'. HAProxy decodes a C string, so a NUL byte ends the input.
bool conv_url_dec(const Args& args, Context& ctx, Sample& s) {
    bool in_form = args.at(0) && args.list[0].sint != 0;
    std::string& out = ctx.arena().take();
    const std::string_view in = s.str;
    for (std::size_t i = 0; i < in.size() && in[i] != '\0'; ++i) {
        const char c = in[i];
        if (c == '%') {
            const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
            const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+') {
            out.push_back(in_form ? ' ' : '+');
        } else {
            if (c == '?') in_form = true;
            out.push_back(c);
        }
    }
    s = Sample::string(out);
    return true;
}

util::Status prepare_url_enc(Args& args) {
    if (const Arg* type = args.at(0); type && type->text != "query")
        return util::error(
            fmt::format("unknown encoding type '{}': only 'query' exists", type->text));
    return util::ok();
}

// Query encoding keeps RFC 3986's unreserved characters and escapes everything else.
bool conv_url_enc(const Args&, Context& ctx, Sample& s) {
    std::string& out = ctx.arena().take();
    for (char ch : s.str) {
        const auto c = static_cast<unsigned char>(ch);
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (keep) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHexUpper[c >> 4]);
            out.push_back(kHexUpper[c & 15]);
        }
    }
    s = Sample::string(out);
    return true;
}

// --- trimming, Host header -------------------------------------------------------------------

bool conv_ltrim(const Args& args, Context&, Sample& s) {
    const std::size_t at = s.str.find_first_not_of(args.list[0].text);
    s.str.remove_prefix(at == std::string_view::npos ? s.str.size() : at);
    return true;
}

bool conv_rtrim(const Args& args, Context&, Sample& s) {
    const std::size_t at = s.str.find_last_not_of(args.list[0].text);
    s.str = s.str.substr(0, at == std::string_view::npos ? 0 : at + 1);
    return true;
}

// The last ':' not inside an IPv6 literal's brackets, or npos.
std::size_t port_colon(std::string_view host) {
    const std::size_t at = host.find_last_of(":]");
    return at != std::string_view::npos && host[at] == ':' ? at : std::string_view::npos;
}

bool conv_host_only(const Args& args, Context& ctx, Sample& s) {
    if (const std::size_t colon = port_colon(s.str); colon != std::string_view::npos)
        s.str = s.str.substr(0, colon);
    return conv_case<'A', 'a'>(args, ctx, s);
}

// As in HAProxy, a Host without a port gives 0, not an absent sample.
bool conv_port_only(const Args&, Context&, Sample& s) {
    // HAProxy reads the digits into an unsigned int, wrapping on absurd lengths.
    std::uint32_t port = 0;
    if (const std::size_t colon = port_colon(s.str); colon != std::string_view::npos) {
        for (std::size_t i = colon + 1; i < s.str.size() && s.str[i] >= '0' && s.str[i] <= '9'; ++i)
            port = port * 10 + static_cast<std::uint32_t>(s.str[i] - '0');
    }
    s = Sample::integer(port);
    return true;
}

// --- concat, strcmp -----------------------------------------------------------

util::Status prepare_concat(Args& args) {
    if (const Arg* var = args.at(1); var && !var->text.empty()) return prepare_var_arg(args, 1);
    return util::ok();
}

bool conv_concat(const Args& args, Context& ctx, Sample& s) {
    std::string& out = ctx.arena().take();
    out.assign(s.str);
    if (const Arg* start = args.at(0)) out += start->text;
    // A missing variable appends nothing; the sample still succeeds.
    if (Sample v; args.prepared && var_as(ctx, args.state<VarRef>(), Type::Str, v)) out += v.str;
    if (const Arg* end = args.at(2)) out += end->text;
    s = Sample::string(out);
    return true;
}

util::Status prepare_var_only(Args& args) {
    if (args.list[0].text.empty()) return util::error("missing variable name");
    return prepare_var_arg(args, 0);
}

// strcmp(3)'s answer, as HAProxy computes it with strncmp over the shorter length (so a NUL
// byte ends the comparison) and then the lengths.
bool conv_strcmp(const Args& args, Context& ctx, Sample& s) {
    Sample v;
    if (!var_as(ctx, args.state<VarRef>(), Type::Str, v)) return false;
    const std::string_view a = s.str, b = v.str;
    int result = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        const auto ca = static_cast<unsigned char>(a[i]), cb = static_cast<unsigned char>(b[i]);
        if (ca != cb) {
            result = ca - cb;
            break;
        }
        if (ca == 0) break;
    }
    if (result == 0 && a.size() != b.size()) result = a.size() < b.size() ? -1 : 1;
    s = Sample::integer(result);
    return true;
}

constexpr Converter def(std::string_view name, ConvertFn fn, ArgSpec args, Type in, Type out,
                        PrepareFn prepare = nullptr) {
    return {.name = name, .fn = fn, .args = args, .in = in, .out = out, .prepare = prepare};
}
constexpr ArgSpec kNone{0, 0};
constexpr ArgSpec kOneStr{1, 1};
constexpr ArgSpec kSplit{2, 3, {ArgKind::Sint, ArgKind::Str, ArgKind::Sint}};
constexpr Type kStr = Type::Str;

constexpr Converter kConverters[] = {
    def("lower", conv_case<'A', 'a'>, kNone, kStr, kStr),
    def("upper", conv_case<'a', 'A'>, kNone, kStr, kStr),
    def("length", conv_length, kNone, kStr, Type::Sint),
    def("bytes", conv_bytes, {1, 2, {ArgKind::Sint, ArgKind::Sint}}, Type::Bin, Type::Bin,
        prepare_bytes),
    def("field", conv_field, kSplit, kStr, kStr, prepare_split),
    def("word", conv_word, kSplit, kStr, kStr, prepare_split),
    def("regsub", conv_regsub, {2, 3}, kStr, kStr, prepare_regsub),
    def("json", conv_json, {0, 1}, kStr, kStr, prepare_json),
    def("url_dec", conv_url_dec, {0, 1, {ArgKind::Sint}}, kStr, kStr),
    def("url_enc", conv_url_enc, {0, 1}, kStr, kStr, prepare_url_enc),
    def("ltrim", conv_ltrim, kOneStr, kStr, kStr),
    def("rtrim", conv_rtrim, kOneStr, kStr, kStr),
    def("host_only", conv_host_only, kNone, kStr, kStr),
    def("port_only", conv_port_only, kNone, kStr, Type::Sint),
    def("concat", conv_concat, {0, 3}, kStr, kStr, prepare_concat),
    def("strcmp", conv_strcmp, kOneStr, kStr, Type::Sint, prepare_var_only),
};
const ConverterRegistrar kRegistered{kConverters};

}  // namespace
}  // namespace sluice::sample
