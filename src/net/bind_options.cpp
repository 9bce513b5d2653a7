// The socket-level options of `bind` lines.
#include "sluice/net/bind_options.hpp"

#include <charconv>

#include "sluice/cfg/options.hpp"

namespace sluice::net {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

template <auto Member>
Status set_uint(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], UINT32_MAX);
    if (!v) return ctx.alert("expects a number, got '{}'", args[0]);
    ctx.parts().get<BindOptions>().*Member = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
template <auto Member>
Status set_flag(Args, Ctx& ctx) {
    ctx.parts().get<BindOptions>().*Member = true;
    return Status::Ok;
}
template <auto Member>
Status set_string(Args args, Ctx& ctx) {
    ctx.parts().get<BindOptions>().*Member = args[0];
    return Status::Ok;
}
template <auto Member>
Status set_id(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], INT32_MAX);
    if (!v) return ctx.alert("expects a numeric id, got '{}'", args[0]);
    ctx.parts().get<BindOptions>().*Member = static_cast<std::int64_t>(*v);
    return Status::Ok;
}
Status set_unix_mode(Args args, Ctx& ctx) {
    std::uint32_t mode = 0;
    auto [end, ec] = std::from_chars(args[0].data(), args[0].data() + args[0].size(), mode, 8);
    if (ec != std::errc() || end != args[0].data() + args[0].size() || mode == 0 || mode > 07777)
        return ctx.alert("expects an octal permission such as 600, got '{}'", args[0]);
    ctx.parts().get<BindOptions>().unix_mode = mode;
    return Status::Ok;
}

using cfg::OptionOf;
constexpr std::string_view kOneProcess =
    "sluice runs one process; threads take accepts from every listener";

constexpr cfg::Option kBindOptions[] = {
    {.of = OptionOf::Bind, .name = "backlog", .args = 1, .parse = set_uint<&BindOptions::backlog>},
    {.of = OptionOf::Bind, .name = "maxconn", .args = 1, .parse = set_uint<&BindOptions::maxconn>},
    {.of = OptionOf::Bind, .name = "name", .args = 1, .parse = set_string<&BindOptions::name>},
    {.of = OptionOf::Bind, .name = "v4v6", .parse = set_flag<&BindOptions::v4v6>},
    {.of = OptionOf::Bind, .name = "v6only", .parse = set_flag<&BindOptions::v6only>},
    {.of = OptionOf::Bind, .name = "defer-accept", .parse = set_flag<&BindOptions::defer_accept>},
    {.of = OptionOf::Bind, .name = "tfo", .parse = set_flag<&BindOptions::tfo>},
    {.of = OptionOf::Bind, .name = "accept-proxy", .parse = set_flag<&BindOptions::accept_proxy>},
    {.of = OptionOf::Bind,
     .name = "interface",
     .args = 1,
     .parse = set_string<&BindOptions::interface>},
    {.of = OptionOf::Bind, .name = "mss", .args = 1, .parse = set_uint<&BindOptions::mss>},
    {.of = OptionOf::Bind, .name = "mode", .args = 1, .parse = set_unix_mode},
    {.of = OptionOf::Bind, .name = "user", .args = 1, .parse = set_string<&BindOptions::unix_user>},
    {.of = OptionOf::Bind,
     .name = "group",
     .args = 1,
     .parse = set_string<&BindOptions::unix_group>},
    {.of = OptionOf::Bind, .name = "uid", .args = 1, .parse = set_id<&BindOptions::unix_uid>},
    {.of = OptionOf::Bind, .name = "gid", .args = 1, .parse = set_id<&BindOptions::unix_gid>},
    {.of = OptionOf::Bind, .name = "process", .args = 1, .ignored = kOneProcess},
    {.of = OptionOf::Bind, .name = "thread", .args = 1, .ignored = kOneProcess},
};
const cfg::OptionRegistrar kRegistered{kBindOptions};

}  // namespace
}  // namespace sluice::net
