// set-src, set-dst, set-src-port, set-dst-port: the client's addresses as rules, headers
// (forwardfor) and logs see them from then on, e.g. the real client behind a CDN
// (`http-request set-src hdr(x-forwarded-for)`). The stream keeps the changed address.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <cstring>

#include "sluice/net/socket.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::rules {
namespace {

using util::Result;

enum class Part : std::uint8_t { Src, Dst, SrcPort, DstPort };

// The address in force: the stream's current one, else the socket's.
bool current(const sample::Connection& c, bool dst, net::Address& out) {
    if (const net::Address* a = dst ? c.dst : c.src) {
        out = *a;
        return true;
    }
    return dst ? net::local_address(c.fd, out) : net::peer_address(c.fd, out);
}

// `to` takes the IP of `s` and keeps `port`, as HAProxy keeps the port "when the family
// allows it" (ours always does).
bool address_from(sample::Sample s, std::uint16_t port, sample::Context& ctx, net::Address& to) {
    if (s.type != sample::Type::Ipv4 && s.type != sample::Type::Ipv6 &&
        !sample::cast(s, sample::Type::Ipv4, ctx.arena()) &&
        !sample::cast(s, sample::Type::Ipv6, ctx.arena()))
        return false;
    to = net::Address{};
    if (s.type == sample::Type::Ipv4) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        std::memcpy(&in.sin_addr, s.ip.data(), 4);
        in.sin_port = htons(port);
        std::memcpy(&to.storage, &in, sizeof in);
        to.length = sizeof in;
    } else {
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        std::memcpy(&in6.sin6_addr, s.ip.data(), 16);
        in6.sin6_port = htons(port);
        std::memcpy(&to.storage, &in6, sizeof in6);
        to.length = sizeof in6;
    }
    return true;
}

class SetAddress final : public Action {
  public:
    SetAddress(Part part, sample::Expr expr) : part_(part), expr_(std::move(expr)) {}
    bool run(RuleCtx& ctx) const override {
        auto* conn = ctx.samples.find<sample::Connection>();
        if (!conn || !conn->change_address) return true;
        sample::Sample s;
        if (!expr_.eval(ctx.samples, s)) return true;  // no sample: nothing changes
        const bool dst = part_ == Part::Dst || part_ == Part::DstPort;
        net::Address now;
        if (!current(*conn, dst, now) || (now.family() != AF_INET && now.family() != AF_INET6 &&
                                          (part_ == Part::SrcPort || part_ == Part::DstPort)))
            return true;
        net::Address to = now;
        if (part_ == Part::Src || part_ == Part::Dst) {
            const std::uint16_t port =
                now.family() == AF_INET || now.family() == AF_INET6 ? now.port() : 0;
            if (!address_from(s, port, ctx.samples, to)) return true;
        } else {
            if (s.type != sample::Type::Sint &&
                !sample::cast(s, sample::Type::Sint, ctx.samples.arena()))
                return true;
            to.set_port(static_cast<std::uint16_t>(s.sint));
        }
        conn->change_address(conn->owner, *conn, dst, to);
        return true;
    }

  private:
    Part part_;
    sample::Expr expr_;
};

template <Part P>
Result<std::unique_ptr<const Action>> parse_set_address(const ActionParse& p) {
    if (p.args.size() != 2) return util::error("expects exactly 1 argument: <expr>");
    auto e = sample::parse_expr(p.args[1], p.available);
    if (!e) return util::error(e.error());
    return std::unique_ptr<const Action>(new SetAddress(P, std::move(*e)));
}

constexpr ActionDef kActions[] = {
    {.name = "set-src", .parse = parse_set_address<Part::Src>, .response = false},
    {.name = "set-dst", .parse = parse_set_address<Part::Dst>, .response = false},
    {.name = "set-src-port", .parse = parse_set_address<Part::SrcPort>, .response = false},
    {.name = "set-dst-port", .parse = parse_set_address<Part::DstPort>, .response = false},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
