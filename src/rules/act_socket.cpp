// set-mark and set-tos: what the packets sent to the client carry from then on (a netfilter
// mark for policy routing or traffic shaping, a TOS/DSCP byte for the routers on the way), in
// http-request and http-response rules and, through tcp_rules.cpp, in every tcp rule set.
#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "sluice/net/socket.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/connection.hpp"

namespace sluice::rules {
namespace {

using util::Result;

enum class Field : std::uint8_t { Mark, Tos };

class SetSocketField final : public Action {
  public:
    SetSocketField(Field field, std::uint32_t value) : field_(field), value_(value) {}
    bool run(RuleCtx& ctx) const override {
        const auto* conn = ctx.samples.find<sample::Connection>();
        if (!conn || conn->fd < 0) return true;
        // As in HAProxy, a system that refuses (no CAP_NET_ADMIN for a mark) changes nothing
        // and the rules go on.
        if (field_ == Field::Mark)
            (void)net::set_mark(conn->fd, value_);
        else
            (void)net::set_tos(conn->fd, static_cast<std::uint8_t>(value_));
        return true;
    }

  private:
    Field field_;
    std::uint32_t value_;
};

// HAProxy 2.6 reads the value with strtoul in base 0: decimal, hexadecimal after "0x", octal
// after a leading "0" ("010" is 8). Sluice reads it the same way, but refuses what strtoul
// would wrap around (a minus sign, too many bits) instead of setting another value than written.
template <Field F>
Result<std::unique_ptr<const Action>> parse_set_socket_field(const ActionParse& p) {
    if (p.args.size() != 2) return util::error("expects exactly 1 argument (integer/hex value)");
    const std::string& text = p.args[1];
    const std::uint32_t max = F == Field::Mark ? std::numeric_limits<std::uint32_t>::max() : 255;
    char* end = nullptr;
    errno = 0;
    const bool negative = text.find('-') != std::string::npos;
    const unsigned long long v = negative ? 0 : std::strtoull(text.c_str(), &end, 0);
    if (!end || end == text.c_str() || *end != '\0')
        return util::error(fmt::format("invalid value '{}' (integer/hex value expected)", text));
    if (errno == ERANGE || v > max)
        return util::error(fmt::format("'{}' is out of range: {} (at most {:#x})", text,
                                       F == Field::Mark ? "a mark is 32 bits" : "a TOS is 8 bits",
                                       max));
    return std::unique_ptr<const Action>(new SetSocketField(F, static_cast<std::uint32_t>(v)));
}

constexpr ActionDef kActions[] = {
    {.name = "set-mark", .parse = parse_set_socket_field<Field::Mark>},
    {.name = "set-tos", .parse = parse_set_socket_field<Field::Tos>},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
