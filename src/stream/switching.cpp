// `use_backend` switching (see switching.hpp).
#include "sluice/stream/switching.hpp"

#include "sluice/sample/acl.hpp"
#include "sluice/sample/format.hpp"

namespace sluice::stream {

proxy::Backend* choose_backend(const proxy::Frontend& fe, const proxy::Config& config,
                               sample::Context& ctx) {
    for (const proxy::SwitchRule& rule : fe.switching) {
        if (rule.cond && !rule.cond->eval(ctx)) continue;
        if (!rule.dynamic) return rule.backend;
        std::string& name = ctx.arena().take();
        rule.dynamic->render(ctx, name);
        proxy::Backend* b = config.find_backend(name);
        // HAProxy: a computed name that matches no backend (or one of another mode) falls
        // through to the next rule.
        if (b && b->conf->mode == fe.conf->mode) return b;
    }
    return fe.backend;
}

void choose_server(const proxy::Backend& be, sample::Context& ctx, ServerAttempt& attempt) {
    proxy::Server* preferred = nullptr;
    for (const proxy::Backend::ServerRule& r : be.server_rules) {
        if (r.cond && !r.cond->eval(ctx)) continue;
        // HAProxy: a server that is down or in maintenance passes to the next rule, unless
        // `option persist` sends the request there anyway.
        if (r.server->reachable() || be.conf->persist) {
            preferred = r.server;
            break;
        }
    }
    attempt.prefer(preferred);
    if (be.balancer().hashes()) {
        std::uint32_t hash = 0;
        const bool found = be.balancer().hash_key(ctx, hash);
        attempt.set_hash(found, hash);
    }
}

}  // namespace sluice::stream
