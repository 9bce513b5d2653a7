// Listening and connecting sockets (see socket.hpp).
#include "sluice/net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::net {
namespace {

util::Result<int> fail(int fd, const Endpoint& e, const char* what) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return util::error(fmt::format("cannot {} {}: {}", what,
                                   e.inherited_fd >= 0 ? e.text : e.address.to_string(),
                                   std::strerror(err)));
}

// `sun` (a path, of `length` bytes of address) becomes "PATH.PID.tmp" beside it; false when
// that would not fit.
bool make_temporary_path(sockaddr_un& sun, socklen_t& length) {
    const std::string tmp = fmt::format("{}.{}.tmp", sun.sun_path, ::getpid());
    if (tmp.size() >= sizeof sun.sun_path) return false;
    std::memcpy(sun.sun_path, tmp.c_str(), tmp.size() + 1);
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + tmp.size() + 1);
    return true;
}

// Removes the temporary socket file of a bind that failed after it.
struct TemporaryPath {
    const char* path = nullptr;
    ~TemporaryPath() {
        if (path) ::unlink(path);
    }
};

bool set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

util::Result<ListenSocket> open_listener(const Endpoint& e, const BindOptions& o, int backlog) {
    ListenSocket ls;
    ls.endpoint = e;
    if (backlog <= 0) backlog = SOMAXCONN;
    if (e.inherited_fd >= 0) {
        // fd@N: the parent bound it; we only make sure it is a listening stream socket.
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(e.inherited_fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
            type != SOCK_STREAM)
            return util::error(fmt::format("{} is not an inherited stream socket", e.text));
        if (!set_nonblocking(e.inherited_fd)) {
            auto r = fail(-1, e, "use");
            return util::error(r.error());
        }
        ::listen(e.inherited_fd, backlog);  // harmless if it already listens
        ls.fd = e.inherited_fd;
        ls.inherited = true;
        return ls;
    }

    const int family = e.address.family();
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return util::error(fail(-1, e, "create a socket for").error());
    // A unix socket is bound under a temporary name and renamed over the path once it listens
    // (as HAProxy does): whoever sees the path can connect, never meeting a refusal while we
    // start, and a reload replaces the old socket without a moment with none.
    Address bound = e.address;
    auto* bound_sun = reinterpret_cast<sockaddr_un*>(&bound.storage);
    const bool renamed = family == AF_UNIX && bound_sun->sun_path[0] != '\0' &&
                         make_temporary_path(*bound_sun, bound.length);
    if (renamed) {
        // Only a socket is replaced: a file of another kind at the path is someone else's.
        const auto* final_sun = reinterpret_cast<const sockaddr_un*>(&e.address.storage);
        struct stat st {};
        if (::lstat(final_sun->sun_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            errno = EADDRINUSE;
            return util::error(fail(fd, e, "bind").error());
        }
    }
    const int one = 1;
    if (family != AF_UNIX) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        // Accepted sockets inherit it: one call per listener instead of one per connection.
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (family == AF_INET6) {
            // v4v6 accepts IPv4 too on [::]; v6only forbids it; otherwise the system default.
            if (o.v4v6 || o.v6only) {
                const int v6only = o.v6only ? 1 : 0;
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
            }
        }
        if (!o.interface.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.interface.c_str(),
                                               static_cast<socklen_t>(o.interface.size())) != 0)
            return util::error(fail(fd, e, "bind to the interface of").error());
        if (o.mss > 0) setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &o.mss, sizeof o.mss);
        if (o.defer_accept) {
            const int secs = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs);
        }
        if (o.tfo) {
            const int qlen = backlog;
            setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen);
        }
    } else {
        const auto* sun = reinterpret_cast<const sockaddr_un*>(&e.address.storage);
        if (sun->sun_path[0] != '\0' && !renamed) {
            // A stale socket file from a previous run would make bind fail; HAProxy replaces it.
            struct stat st {};
            if (::lstat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(sun->sun_path);
        }
    }
    if (::bind(fd, bound.raw(), bound.length) != 0) return util::error(fail(fd, e, "bind").error());
    TemporaryPath cleanup{renamed ? bound_sun->sun_path : nullptr};
    if (family == AF_UNIX) {
        const auto* sun = bound_sun;
        if (sun->sun_path[0] != '\0') {
            if (o.unix_mode != 0 && ::chmod(sun->sun_path, o.unix_mode) != 0)
                return util::error(fail(fd, e, "set the mode of").error());
            uid_t uid = static_cast<uid_t>(-1);
            gid_t gid = static_cast<gid_t>(-1);
            if (o.unix_uid >= 0) uid = static_cast<uid_t>(o.unix_uid);
            if (o.unix_gid >= 0) gid = static_cast<gid_t>(o.unix_gid);
            if (!o.unix_user.empty()) {
                if (const passwd* pw = getpwnam(o.unix_user.c_str()))
                    uid = pw->pw_uid;
                else
                    return util::error(
                        fmt::format("unknown user '{}' for {}", o.unix_user, e.text));
            }
            if (!o.unix_group.empty()) {
                if (const group* gr = getgrnam(o.unix_group.c_str()))
                    gid = gr->gr_gid;
                else
                    return util::error(
                        fmt::format("unknown group '{}' for {}", o.unix_group, e.text));
            }
            if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
                ::chown(sun->sun_path, uid, gid) != 0)
                return util::error(fail(fd, e, "set the owner of").error());
        }
    }
    if (::listen(fd, backlog) != 0) return util::error(fail(fd, e, "listen on").error());
    if (renamed) {
        const auto* final_sun = reinterpret_cast<const sockaddr_un*>(&e.address.storage);
        if (::rename(bound_sun->sun_path, final_sun->sun_path) != 0)
            return util::error(fail(fd, e, "rename the socket file of").error());
        cleanup.path = nullptr;
    }
    ls.fd = fd;
    return ls;
}

void close_listener(ListenSocket& s) {
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
}

util::Result<int> start_connect(const Address& to) {
    int fd = ::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return util::error(fmt::format("socket: {}", std::strerror(errno)));
    if (::connect(fd, to.raw(), to.length) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        ::close(fd);
        return util::error(std::strerror(err));
    }
    return fd;
}

int connect_result(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

void tune_stream_socket(int fd, bool keepalive) {
    const int one = 1;
    // Fails harmlessly with EOPNOTSUPP on UNIX sockets.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (keepalive) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

void set_keepalive(int fd) {
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

void set_nolinger(int fd) {
    const linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

void prepare_silent_drop(int fd) {
    // TCP_REPAIR (needs CAP_NET_ADMIN) makes the close send nothing at all. Without it, the
    // reset that the close sends is kept from going beyond the next hop (a hop limit of 1),
    // as HAProxy does: the client's side of the connection stays open until it gives up.
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof one) == 0) return;
    set_nolinger(fd);
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return;
    if (local.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &one, sizeof one);
    else if (local.ss_family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_TTL, &one, sizeof one);
}

bool set_mark(int fd, std::uint32_t mark) {
    return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0;
}

bool set_tos(int fd, std::uint8_t tos) {
    // An IPv6 socket sends to a v4-mapped peer as IPv4, with the IPv4 option's TOS; to others
    // with its traffic class. Setting both, and letting the IPv6 one fail on an IPv4 socket,
    // costs no address lookup.
    const int value = tos;
    const bool v4 = setsockopt(fd, IPPROTO_IP, IP_TOS, &value, sizeof value) == 0;
    const bool v6 = setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &value, sizeof value) == 0;
    return v4 || v6;
}

Pending pending_input(int fd) {
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Pending::Bytes;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Pending::Nothing;
    return Pending::End;
}

bool local_address(int fd, Address& out) {
    out.length = sizeof out.storage;
    return getsockname(fd, reinterpret_cast<sockaddr*>(&out.storage), &out.length) == 0;
}

bool peer_address(int fd, Address& out) {
    out.length = sizeof out.storage;
    return getpeername(fd, reinterpret_cast<sockaddr*>(&out.storage), &out.length) == 0;
}

}  // namespace sluice::net
