// Captures (see capture.hpp): the per-transaction store and its pool, the capture.req.hdr,
// capture.res.hdr, capture.req.method and capture.req.uri fetches, the capture-req and
// capture-res converters, and the `capture request|response header` and `declare capture`
// keywords. The header captures themselves are made by the http module, the capture actions
// by the rules module.
#include "sluice/sample/capture.hpp"

#include <atomic>
#include <charconv>
#include <limits>
#include <optional>

#include "sluice/cfg/keyword.hpp"
#include "sluice/sample/registry.hpp"
#include "sluice/util/units.hpp"

namespace sluice::sample {

// A slot length or number: digits only, at most INT32_MAX (HAProxy keeps them in an int).
std::optional<std::uint32_t> parse_slot_number(std::string_view text) {
    auto v = util::parse_uint(text, static_cast<std::uint64_t>(INT32_MAX));
    if (!v) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
}

util::Result<std::uint32_t> parse_capture_len(std::string_view text, bool positive) {
    const auto n = parse_slot_number(text);
    if (!n) return util::error(fmt::format("'len' expects a number of bytes, got '{}'", text));
    if (positive && *n == 0) return util::error("length must be > 0");
    return *n;
}

util::Result<std::uint32_t> parse_capture_id(std::string_view text) {
    const auto n = parse_slot_number(text);
    if (!n)
        return util::error(fmt::format("cannot parse id '{}': expects a slot number from 0", text));
    return *n;
}

void Captures::set_cookie(bool response, std::string_view name_value, std::uint32_t len) {
    const int i = response ? 1 : 0;
    if (cookie_set_[i]) return;  // the first one only, as HAProxy
    cookie_[i].assign(name_value.substr(0, len));
    cookie_set_[i] = true;
}

bool Captures::cookie(bool response, std::string_view& out) const {
    const int i = response ? 1 : 0;
    if (!cookie_set_[i]) return false;
    out = cookie_[i];
    return true;
}

void Captures::reset(const CaptureConf& conf) {
    const auto fit = [](std::vector<Slot>& slots, const std::vector<CaptureSlot>& decl) {
        slots.resize(decl.size());
        for (std::size_t i = 0; i < decl.size(); ++i) {
            slots[i].value.clear();
            slots[i].len = decl[i].len;
            slots[i].set = false;
        }
    };
    fit(req_, conf.req);
    fit(res_, conf.res);
    line_.clear();
    line_set_ = false;
    for (int i = 0; i < 2; ++i) {
        cookie_[i].clear();
        cookie_set_[i] = false;
    }
}

bool Captures::store(bool response, std::size_t index, std::string_view value) {
    std::vector<Slot>& slots = response ? res_ : req_;
    if (index >= slots.size()) return false;
    Slot& s = slots[index];
    value = value.substr(0, s.len);
    value = value.substr(0, value.find('\0'));
    s.value.assign(value);
    s.set = true;
    return true;
}

bool Captures::get(bool response, std::size_t index, std::string_view& out) const {
    const std::vector<Slot>& slots = response ? res_ : req_;
    if (index >= slots.size() || !slots[index].set) return false;
    out = slots[index].value;
    return true;
}

void Captures::set_request_line(std::string_view method, std::string_view target,
                                std::string_view version) {
    line_.clear();
    for (std::string_view part :
         {method, std::string_view(" "), target, std::string_view(" "), version}) {
        if (line_.size() >= kRequestLineMax) break;
        line_.append(part.substr(0, kRequestLineMax - line_.size()));
    }
    line_set_ = true;
}

bool Captures::request_line(std::string_view& out) const {
    if (!line_set_) return false;
    out = line_;
    return true;
}

namespace {

// Per thread, bounded: a burst of transactions does not pin its peak for ever.
constexpr std::size_t kPoolMax = 1024;
struct Pool {
    std::vector<Captures*> free;
    ~Pool() {
        for (Captures* c : free)
            delete c;
    }
};
Pool& pool() {
    thread_local Pool p;
    return p;
}

std::atomic<bool> g_line_wanted{false};

}  // namespace

void CapturesRelease::operator()(Captures* c) const noexcept {
    Pool& p = pool();
    if (p.free.size() >= kPoolMax) {
        delete c;
        return;
    }
    p.free.push_back(c);
}

CapturesPtr take_captures(const CaptureConf& conf) {
    Pool& p = pool();
    Captures* c = nullptr;
    if (p.free.empty()) {
        c = new Captures();
    } else {
        c = p.free.back();
        p.free.pop_back();
    }
    c->reset(conf);
    return CapturesPtr(c);
}

std::size_t pooled_captures() {
    return pool().free.size();
}

bool request_line_wanted() {
    return g_line_wanted.load(std::memory_order_relaxed);
}

void note_request_line_wanted() {
    g_line_wanted.store(true, std::memory_order_relaxed);
}

namespace {

template <bool Response>
bool fetch_slot(const Args& args, Context& ctx, Sample& out) {
    const Captures* c = ctx.find<Captures>();
    const std::int64_t index = args.list[0].sint;
    std::string_view v;
    if (!c || index < 0 || !c->get(Response, static_cast<std::size_t>(index), v)) return false;
    out = Sample::string(v);
    return true;
}

util::Status want_request_line(Args&) {
    g_line_wanted.store(true, std::memory_order_relaxed);
    return util::ok();
}

bool fetch_req_method(const Args&, Context& ctx, Sample& out) {
    const Captures* c = ctx.find<Captures>();
    std::string_view line;
    if (!c || !c->request_line(line)) return false;
    out = Sample::string(line.substr(0, line.find(' ')));
    return true;
}

// The path of the captured target: from its first '/' after any scheme://authority, up to the
// next space (so with its query string); nothing for `*` or an authority alone.
bool fetch_req_uri(const Args&, Context& ctx, Sample& out) {
    const Captures* c = ctx.find<Captures>();
    std::string_view line;
    if (!c || !c->request_line(line)) return false;
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    std::string_view target = line.substr(sp + 1);
    target = target.substr(0, target.find(' '));
    if (!target.starts_with('/')) {
        const std::size_t scheme = target.find("://");
        if (scheme == std::string_view::npos) return false;
        const std::size_t slash = target.find('/', scheme + 3);
        if (slash == std::string_view::npos) return false;
        target.remove_prefix(slash);
    }
    out = Sample::string(target);
    return true;
}

// capture-req(N) / capture-res(N): the sample passes through, and into slot N. HAProxy's
// converter fails when the slot does not exist.
template <bool Response>
bool conv_capture(const Args& args, Context& ctx, Sample& s) {
    Captures* c = ctx.find<Captures>();
    const std::int64_t index = args.list[0].sint;
    if (!c || index < 0) return false;
    return c->store(Response, static_cast<std::size_t>(index), s.str);
}

constexpr ArgSpec kSlotArg{1, 1, {ArgKind::Sint}};

// Stored by the stream, readable from the request on, in either direction.
constexpr Fetch kFetches[] = {
    {.name = "capture.req.hdr",
     .fn = fetch_slot<false>,
     .args = kSlotArg,
     .out = Type::Str,
     .use = Use::Internal},
    {.name = "capture.res.hdr",
     .fn = fetch_slot<true>,
     .args = kSlotArg,
     .out = Type::Str,
     .use = Use::Res},
    {.name = "capture.req.method",
     .fn = fetch_req_method,
     .out = Type::Str,
     .use = Use::Internal,
     .prepare = want_request_line},
    {.name = "capture.req.uri",
     .fn = fetch_req_uri,
     .out = Type::Str,
     .use = Use::Internal,
     .prepare = want_request_line},
};
const FetchRegistrar kFetchesRegistered{kFetches};

constexpr Converter kConverters[] = {
    {.name = "capture-req",
     .fn = conv_capture<false>,
     .args = kSlotArg,
     .in = Type::Str,
     .out = Type::Str},
    {.name = "capture-res",
     .fn = conv_capture<true>,
     .args = kSlotArg,
     .in = Type::Str,
     .out = Type::Str},
};
const ConverterRegistrar kConvertersRegistered{kConverters};

// capture request|response header NAME len N
template <bool Response>
cfg::Status parse_capture_header(cfg::Args args, cfg::Ctx& ctx) {
    if (args.size() < 4 || args[0] != "header" || args[2] != "len")
        return ctx.alert("expects 'header' <header_name> 'len' <length>");
    if (args.size() > 4) return ctx.alert("unexpected argument '{}'", args[4]);
    if (args[1].empty()) return ctx.alert("empty header name");
    auto len = parse_capture_len(args[3], false);
    if (!len) return ctx.alert("{}", len.error());
    CaptureConf& conf = ctx.parts().get<CaptureConf>();
    (Response ? conf.res : conf.req).push_back({.header = args[1], .len = *len});
    return cfg::Status::Ok;
}

// declare capture request|response len N
cfg::Status parse_declare_capture(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty() || (args[0] != "request" && args[0] != "response"))
        return ctx.alert("requires a direction ('request' or 'response')");
    if (args.size() < 3 || args[1] != "len") return ctx.alert("requires a capture length ('len')");
    if (args.size() > 3) return ctx.alert("unexpected argument '{}'", args[3]);
    auto len = parse_capture_len(args[2], true);
    if (!len) return ctx.alert("{}", len.error());
    CaptureConf& conf = ctx.parts().get<CaptureConf>();
    (args[0] == "response" ? conf.res : conf.req).push_back({.header = {}, .len = *len});
    return cfg::Status::Ok;
}

// Frontend side only, as in HAProxy: the slots are the frontend's, whatever backend follows.
// A `capture` line in a backend is ignored with a warning, `declare` there is an alert.
constexpr cfg::Keyword kKeywords[] = {
    {.name = "capture request",
     .in = cfg::In::Frontend,
     .arity = cfg::at_least(0),
     .parse = parse_capture_header<false>},
    {.name = "capture response",
     .in = cfg::In::Frontend,
     .arity = cfg::at_least(0),
     .parse = parse_capture_header<true>},
    {.name = "declare capture",
     .in = cfg::In::Frontend,
     .arity = cfg::at_least(0),
     .parse = parse_declare_capture,
     .fatal_on_wrong_side = true},
};
const cfg::Registrar kKeywordsRegistered{kKeywords};

}  // namespace
}  // namespace sluice::sample
