// Sample fetches about the proxies and servers a stream goes through: fe_name, be_name,
// srv_name, nbsrv, connslots, be_conn, fe_conn, queue, srv_queue, srv_conn, srv_is_up
// (avg_queue, which depends on the balancing, is in the lb module). The stream attaches its
// Frontend, its current Backend (once chosen) and its Server (once connected) to the
// evaluation context, and the Config for fetches naming another backend.
#include <cstdint>

#include "sluice/proxy/fetch.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::proxy {
namespace {

using sample::Args;
using sample::Context;
using sample::Sample;

bool fetch_fe_name(const Args&, Context& ctx, Sample& out) {
    const Frontend* fe = ctx.find<Frontend>();
    if (!fe) return false;
    out = Sample::string(fe->name);
    return true;
}
bool fetch_be_name(const Args&, Context& ctx, Sample& out) {
    const Backend* be = ctx.find<Backend>();
    if (!be) return false;
    out = Sample::string(be->name);
    return true;
}
bool fetch_srv_name(const Args&, Context& ctx, Sample& out) {
    const Server* s = ctx.find<Server>();
    if (!s) return false;
    out = Sample::string(s->name);
    return true;
}

bool fetch_nbsrv(const Args& args, Context& ctx, Sample& out) {
    const Backend* be = backend_arg(args, ctx);
    if (!be) return false;
    std::int64_t n = 0;
    for (const auto& s : be->servers)
        if (s->usable()) ++n;
    out = Sample::integer(n);
    return true;
}

bool fetch_be_conn(const Args& args, Context& ctx, Sample& out) {
    const Backend* be = backend_arg(args, ctx);
    if (!be) return false;
    std::int64_t n = 0;
    for (const auto& s : be->servers)
        n += s->cur_conns.load(std::memory_order_relaxed);
    out = Sample::integer(n);
    return true;
}

// Free connection slots over the usable servers, queue included; -1 when a server has no
// maxconn (HAProxy: the figure then means nothing).
bool fetch_connslots(const Args& args, Context& ctx, Sample& out) {
    const Backend* be = backend_arg(args, ctx);
    if (!be) return false;
    std::int64_t slots = 0;
    for (const auto& s : be->servers) {
        if (!s->usable()) continue;
        const std::uint32_t maxconn = s->maxconn.load(std::memory_order_relaxed);
        if (maxconn == 0) {
            out = Sample::integer(-1);
            return true;
        }
        slots += static_cast<std::int64_t>(maxconn) - s->cur_conns.load(std::memory_order_relaxed);
    }
    slots -= be->queued.load(std::memory_order_relaxed);
    out = Sample::integer(slots);
    return true;
}

bool fetch_queue(const Args& args, Context& ctx, Sample& out) {
    const Backend* be = backend_arg(args, ctx);
    if (!be) return false;
    out = Sample::integer(be->waiting());
    return true;
}

// The server named `[backend/]server` (the stream's backend when none is named).
const Server* server_arg(const Args& args, Context& ctx) {
    const sample::Arg* arg = args.at(0);
    if (!arg) return nullptr;
    std::string_view name = arg->text;
    const Backend* be = nullptr;
    if (const auto slash = name.find('/'); slash != std::string_view::npos) {
        const Config* config = ctx.find<Config>();
        if (!config) return nullptr;
        be = config->find_backend(name.substr(0, slash));
        name.remove_prefix(slash + 1);
    } else {
        be = ctx.find<Backend>();
    }
    if (!be) return nullptr;
    for (const auto& s : be->servers)
        if (s->name == name) return s;
    return nullptr;
}

bool fetch_srv_queue(const Args& args, Context& ctx, Sample& out) {
    const Server* s = server_arg(args, ctx);
    if (!s) return false;
    out = Sample::integer(s->queued.load(std::memory_order_relaxed));
    return true;
}

bool fetch_srv_conn(const Args& args, Context& ctx, Sample& out) {
    const Server* s = server_arg(args, ctx);
    if (!s) return false;
    out = Sample::integer(s->cur_conns.load(std::memory_order_relaxed));
    return true;
}

bool fetch_srv_is_up(const Args& args, Context& ctx, Sample& out) {
    const Server* s = server_arg(args, ctx);
    if (!s) return false;
    out = Sample::boolean(s->reachable());
    return true;
}

bool fetch_fe_conn(const Args& args, Context& ctx, Sample& out) {
    const Frontend* fe = nullptr;
    if (const sample::Arg* name = args.at(0)) {
        if (const Config* config = ctx.find<Config>())
            for (const auto& f : config->frontends)
                if (f->name == name->text) fe = f.get();
    } else {
        fe = ctx.find<Frontend>();
    }
    if (!fe) return false;
    out = Sample::integer(fe->cur_conns.load(std::memory_order_relaxed));
    return true;
}

constexpr sample::ArgSpec kOptionalName{0, 1};
constexpr sample::ArgSpec kServerName{1, 1};
using sample::Type;
using sample::Use;

constexpr sample::Fetch kFetches[] = {
    {.name = "fe_name", .fn = fetch_fe_name, .out = Type::Str, .use = Use::Conn},
    {.name = "be_name", .fn = fetch_be_name, .out = Type::Str, .use = Use::Conn},
    {.name = "srv_name", .fn = fetch_srv_name, .out = Type::Str, .use = Use::Res},
    {.name = "nbsrv",
     .fn = fetch_nbsrv,
     .args = kOptionalName,
     .out = Type::Sint,
     .use = Use::Internal},
    {.name = "be_conn",
     .fn = fetch_be_conn,
     .args = kOptionalName,
     .out = Type::Sint,
     .use = Use::Internal},
    {.name = "connslots",
     .fn = fetch_connslots,
     .args = kOptionalName,
     .out = Type::Sint,
     .use = Use::Internal},
    {.name = "queue", .fn = fetch_queue, .args = kOptionalName, .out = Type::Sint},
    {.name = "srv_queue", .fn = fetch_srv_queue, .args = kServerName, .out = Type::Sint},
    {.name = "srv_conn", .fn = fetch_srv_conn, .args = kServerName, .out = Type::Sint},
    {.name = "srv_is_up", .fn = fetch_srv_is_up, .args = kServerName, .out = Type::Bool},
    {.name = "fe_conn",
     .fn = fetch_fe_conn,
     .args = kOptionalName,
     .out = Type::Sint,
     .use = Use::Internal},
};
const sample::FetchRegistrar kRegistered{kFetches};

}  // namespace

const Backend* backend_arg(const sample::Args& args, sample::Context& ctx) {
    const sample::Arg* name = args.at(0);
    if (!name) return ctx.find<Backend>();
    const Config* config = ctx.find<Config>();
    if (!config) return nullptr;
    for (const auto& b : config->backends)
        if (b->name == name->text) return b.get();
    return nullptr;
}

}  // namespace sluice::proxy
