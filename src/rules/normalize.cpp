// The URI normalizers (see normalize.hpp). What each does to unusual input was read off haproxy
// 2.6.12 by sending it the same targets, and is noted at the step.
#include "sluice/rules/normalize.hpp"

#include <algorithm>

#include "sluice/http/txn.hpp"

namespace sluice::rules::normalize {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char upper(char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// RFC 3986 section 2.3.
bool is_unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// The byte a "%XX" at `i` stands for, or -1 when `in[i]` does not start one.
int percent_at(std::string_view in, std::size_t i) {
    if (i + 2 >= in.size()) return -1;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Calls `fn(segment)` for each "/segment" of `path` after its head (the text before the first
// '/', appended to `out` as it is). A path ending in '/' has a last, empty segment.
template <class Fn>
void for_each_segment(std::string_view path, std::string& out, Fn&& fn) {
    const std::size_t first = path.find('/');
    out.append(path.substr(0, first));
    if (first == std::string_view::npos) return;
    for (std::size_t i = first; i < path.size();) {
        std::size_t end = path.find('/', i + 1);
        if (end == std::string_view::npos) end = path.size();
        fn(path.substr(i + 1, end - i - 1));
        i = end;
    }
}

bool param_before(std::string_view a, std::string_view b) {
    const std::string_view name_a = a.substr(0, a.find('='));
    const std::string_view name_b = b.substr(0, b.find('='));
    // string_view compares bytes as unsigned char, and a name that is a prefix of another first.
    if (const int c = name_a.compare(name_b); c != 0) return c < 0;
    // Equal names keep their order: the views all point into one query.
    return a.data() < b.data();
}

}  // namespace

void fragment_encode(std::string_view in, std::string& out) {
    for (const char c : in) {
        if (c == '#')
            out.append("%23");
        else
            out.push_back(c);
    }
}

std::string_view fragment_strip(std::string_view in) {
    return in.substr(0, in.find('#'));
}

void merge_slashes(std::string_view path, std::string& out) {
    bool after_slash = false;
    for (const char c : path) {
        if (c == '/' && after_slash) continue;
        after_slash = c == '/';
        out.push_back(c);
    }
}

// A "." segment at the end leaves the slash before it: "/a/." gives "/a/", "/." gives "/".
void strip_dot(std::string_view path, std::string& out) {
    bool last_dot = false;
    for_each_segment(path, out, [&](std::string_view seg) {
        last_dot = seg == ".";
        if (last_dot) return;
        out.push_back('/');
        out.append(seg);
    });
    if (last_dot) out.push_back('/');
}

// Built left to right in `out`: a ".." removes the last segment written, which is always a
// "/segment" after `base` (the head holds no '/'). Segments are not special otherwise: ".."
// removes a "." or an empty one too ("/a//../" gives "/a/"). Without `full`, a ".." with
// nothing to remove stays, and the ".." kept that way are the first segments, never removed.
// A ".." at the end leaves a slash, as if it were "../": "/a/b/.." gives "/a/", and "/.."
// gives "/../" (haproxy does the same).
void strip_dotdot(std::string_view path, bool full, std::string& out) {
    std::size_t written = 0;  // segments in `out`
    std::size_t kept = 0;     // of which leading ".." that stay
    bool last_dotdot = false;
    for_each_segment(path, out, [&](std::string_view seg) {
        last_dotdot = seg == "..";
        if (!last_dotdot) {
            out.push_back('/');
            out.append(seg);
            ++written;
        } else if (written > kept) {
            out.resize(out.rfind('/'));
            --written;
        } else if (!full) {
            out.append("/..");
            ++written;
            ++kept;
        }
    });
    if (last_dotdot) out.push_back('/');
}

bool percent_decode_unreserved(std::string_view in, bool strict, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        const int byte = percent_at(in, i);
        if (byte < 0) {
            // Only the '%' is copied: "%%36" then reads "%36" as a sequence (haproxy's "unsafe"
            // example, "/%%36%36" giving "/%66").
            if (strict) return false;
            out.push_back('%');
            continue;
        }
        const char c = static_cast<char>(byte);
        if (is_unreserved(c))
            out.push_back(c);
        else
            out.append(in.substr(i, 3));  // as received: "%2f" stays lower-case
        i += 2;
    }
    return true;
}

bool percent_to_uppercase(std::string_view in, bool strict, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        out.push_back(in[i]);
        if (in[i] != '%') continue;
        if (percent_at(in, i) < 0) {
            if (strict) return false;
            continue;
        }
        out.push_back(upper(in[i + 1]));
        out.push_back(upper(in[i + 2]));
        i += 2;
    }
    return true;
}

void query_sort_by_name(std::string_view query, Params& params, std::string& out) {
    params.clear();
    for (std::size_t i = 0; i < query.size();) {
        std::size_t amp = query.find('&', i);
        if (amp == std::string_view::npos) amp = query.size();
        params.push_back(query.substr(i, amp - i));
        i = amp + 1;
    }
    // Not stable_sort, which may allocate: param_before breaks ties by position.
    std::sort(params.begin(), params.end(), param_before);
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i) out.push_back('&');
        out.append(params[i]);
    }
}

Result normalize_target(Spec spec, std::string_view target, std::string& out, Params& params) {
    out.clear();
    const std::string_view path = http::target_path(target);
    if (path.empty()) return Result::Unchanged;
    const std::size_t at = static_cast<std::size_t>(path.data() - target.data());
    const std::string_view rest = target.substr(at);  // path, query and fragment
    out.append(target.substr(0, at));
    switch (spec.kind) {
        case Normalizer::FragmentEncode:
            fragment_encode(rest, out);
            break;
        case Normalizer::FragmentStrip:
            out.append(fragment_strip(rest));
            break;
        case Normalizer::PathMergeSlashes:
            merge_slashes(path, out);
            out.append(rest.substr(path.size()));
            break;
        case Normalizer::PathStripDot:
            strip_dot(path, out);
            out.append(rest.substr(path.size()));
            break;
        case Normalizer::PathStripDotdot:
            strip_dotdot(path, spec.option, out);
            out.append(rest.substr(path.size()));
            break;
        case Normalizer::PercentDecodeUnreserved:
            if (!percent_decode_unreserved(rest, spec.option, out)) return Result::Invalid;
            break;
        case Normalizer::PercentToUppercase:
            if (!percent_to_uppercase(rest, spec.option, out)) return Result::Invalid;
            break;
        case Normalizer::QuerySortByName: {
            const std::size_t qmark = rest.find('?');
            if (qmark == std::string_view::npos) return Result::Unchanged;
            out.append(rest.substr(0, qmark + 1));
            query_sort_by_name(rest.substr(qmark + 1), params, out);
            break;
        }
    }
    return out == target ? Result::Unchanged : Result::Rewritten;
}

}  // namespace sluice::rules::normalize
