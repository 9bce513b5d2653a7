// Socket plumbing: listening sockets from endpoints, accepting, connecting, socket options.
// Thin wrappers over the system calls that return errors as values with the address named.
#pragma once

#include <cstdint>
#include <string>

#include "sluice/net/address.hpp"
#include "sluice/net/bind_options.hpp"
#include "sluice/util/result.hpp"

namespace sluice::net {

// An open listening socket. Shared by every thread's loop; its fd is what a seamless reload
// will hand over to the next process.
struct ListenSocket {
    int fd = -1;
    Endpoint endpoint;
    bool inherited = false;
};

// Creates, configures, binds and listens. `backlog` 0 means the system's SOMAXCONN.
util::Result<ListenSocket> open_listener(const Endpoint& endpoint, const BindOptions& options,
                                         int backlog);
void close_listener(ListenSocket& socket);

// Starts a non-blocking connect to `to`. Returns the fd; the caller waits for writability and
// reads the outcome with connect_result(). EINPROGRESS is not an error here.
util::Result<int> start_connect(const Address& to);
// 0 when the pending connect succeeded, else the errno it failed with.
int connect_result(int fd);

// TCP_NODELAY and, if asked, SO_KEEPALIVE on a connected TCP socket; ignored on UNIX sockets.
// (Accepted sockets inherit TCP_NODELAY from their listener, set by open_listener.)
void tune_stream_socket(int fd, bool keepalive);
void set_keepalive(int fd);
// Makes close() send a RST instead of a FIN (`option nolinger`).
void set_nolinger(int fd);
// Makes the coming close() of a client socket tell the client nothing (`silent-drop`): no FIN
// and, where the system lets us, no reset either.
void prepare_silent_drop(int fd);

// `set-mark`: the netfilter mark of every packet the socket sends from now on (SO_MARK, which
// needs CAP_NET_ADMIN). False when the system refused it.
bool set_mark(int fd, std::uint32_t mark);
// `set-tos`: the IPv4 TOS byte, or IPv6 traffic class, of every packet the socket sends from
// now on. False when neither applies (a UNIX socket).
bool set_tos(int fd, std::uint8_t tos);

// What a connected socket has waiting to be read, told by one peek.
enum class Pending { Nothing, Bytes, End };  // End: FIN or error
Pending pending_input(int fd);

// The local address a connected socket was accepted on (the client's destination).
bool local_address(int fd, Address& out);
// The address of a connected socket's peer (the client).
bool peer_address(int fd, Address& out);

}  // namespace sluice::net
