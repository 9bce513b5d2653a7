// Socket options of a `bind` line (backlog, maxconn, name, v4v6, v6only, ...), registered by
// this module as bind options and kept in the line's Parts.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::net {

struct BindOptions {
    std::uint32_t backlog = 0;  // 0: the frontend's
    std::uint32_t maxconn = 0;  // 0: the frontend's
    std::string name;
    bool v4v6 = false;
    bool v6only = false;
    bool defer_accept = false;
    bool tfo = false;
    bool accept_proxy = false;  // every connection starts with a PROXY protocol header
    std::string interface;
    std::uint32_t mss = 0;
    // UNIX sockets: permissions applied after bind (`mode 600`, `uid`, `gid`, `user`, `group`).
    std::uint32_t unix_mode = 0;  // 0: leave as created
    std::string unix_user, unix_group;
    std::int64_t unix_uid = -1, unix_gid = -1;
};

}  // namespace sluice::net
