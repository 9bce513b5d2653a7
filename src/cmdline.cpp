// Command-line parsing and the texts of -h, -v and -vv.
#include "sluice/cmdline.hpp"

#include <ev.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <sys/utsname.h>

#include <charconv>

#include "sluice/util/build.hpp"
#include "sluice/util/build_info.hpp"

namespace sluice {
namespace {

util::Result<std::uint64_t> number_arg(const std::string& flag, const std::string& value) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size())
        return util::error(fmt::format("'{}' expects a number, got '{}'", flag, value));
    return v;
}

constexpr std::string_view kMasterWorker =
    "master-worker mode (roadmap item 8: reload with listener hand-over, master CLI, systemd "
    "notify) is not implemented yet";

}  // namespace

util::Result<Options> parse_command_line(const std::vector<std::string>& args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto next = [&](std::string_view what) -> util::Result<std::string> {
            if (i + 1 >= args.size()) return util::error(fmt::format("'{}' expects {}", a, what));
            return args[++i];
        };
        if (a == "--") {
            for (++i; i < args.size(); ++i)
                o.config_paths.push_back(args[i]);
            break;
        }
        if (a == "-f") {
            auto v = next("a file or directory");
            if (!v) return util::error(v.error());
            o.config_paths.push_back(*v);
        } else if (a == "-c") {
            o.check_only = true;
        } else if (a == "-cc") {
            auto v = next("a condition");
            if (!v) return util::error(v.error());
            o.condition = *v;
            o.has_condition = true;
        } else if (a == "-d") {
            o.foreground = o.debug = true;
        } else if (a == "-db") {
            o.foreground = true;
        } else if (a == "-D") {
            o.daemon = true;
        } else if (a == "-p") {
            auto v = next("a file name");
            if (!v) return util::error(v.error());
            o.pidfile = *v;
        } else if (a == "-V") {
            o.verbose = true;
            o.quiet = false;
        } else if (a == "-q") {
            o.quiet = true;
        } else if (a == "-v") {
            o.version = std::max(o.version, 1);
        } else if (a == "-vv") {
            o.version = 2;
        } else if (a == "-n" || a == "-N" || a == "-m") {
            auto v = next("a number");
            if (!v) return util::error(v.error());
            auto n = number_arg(a, *v);
            if (!n) return util::error(n.error());
            if (a == "-m")
                o.memory_limit_mb = *n;
            else if (*n == 0 || *n > UINT32_MAX)
                return util::error(
                    fmt::format("'{}' expects a number from 1 to {}", a, UINT32_MAX));
            else if (a == "-n")
                o.global_maxconn = static_cast<std::uint32_t>(*n);
            else
                o.proxy_maxconn = static_cast<std::uint32_t>(*n);
        } else if (a == "-L") {
            auto v = next("a peer name");
            if (!v) return util::error(v.error());
            o.local_peer = *v;
        } else if (a == "-C") {
            auto v = next("a directory");
            if (!v) return util::error(v.error());
            o.chdir = *v;
        } else if (a.starts_with("-dM")) {
            // -dM alone poisons with 0x50 as HAProxy; -dM<byte> picks the byte.
            std::string_view b = std::string_view(a).substr(3);
            int byte = 0x50;
            if (!b.empty()) {
                int base = 10;
                if (b.starts_with("0x")) {
                    b.remove_prefix(2);
                    base = 16;
                }
                auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), byte, base);
                if (ec != std::errc() || end != b.data() + b.size() || byte < 0 || byte > 255)
                    return util::error(fmt::format("'-dM' expects a byte value, got '{}'", a));
            }
            o.poison = byte;
        } else if (a == "-dS") {
            o.no_splice = true;
        } else if (a == "-dW") {
            o.warnings_are_fatal = true;
        } else if (a == "-dD") {
            o.diagnostics = true;
        } else if (a == "-W" || a == "-Ws" || a == "-S" || a == "-sf" || a == "-st" || a == "-x") {
            return util::error(fmt::format("'{}': {}", a, kMasterWorker));
        } else if (a == "-h" || a == "--help") {
            o.help = true;
        } else {
            return util::error(fmt::format("unknown option '{}'", a));
        }
    }
    return o;
}

std::string usage_text() {
    return fmt::format(
        "Usage : sluice [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n"
        "        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]\n"
        "        -v displays version ; -vv shows known build options.\n"
        "        -d enters debug mode ; -db only disables background mode.\n"
        "        -dM[<byte>] poisons released buffers with <byte> (default 0x50)\n"
        "        -V enters verbose mode (disables quiet mode)\n"
        "        -D goes daemon ; -C changes to <dir> before loading files.\n"
        "        -q quiet mode : don't display messages\n"
        "        -c check mode : only check config files and exit\n"
        "        -cc check condition : evaluate a condition and exit (0 true, 1 false, 2 error)\n"
        "        -n sets the maximum total # of connections\n"
        "        -m limits the usable amount of memory (in MB)\n"
        "        -N sets the default, per-proxy maximum # of connections\n"
        "        -L set local peer name (default to hostname)\n"
        "        -p writes the pid of the process to this file\n"
        "        -dS disables splice usage\n"
        "        -dW fails if any warning is emitted\n"
        "        -dD diagnostic mode : show [DIAG] messages\n"
        "        -W, -Ws, -S, -sf, -st, -x: master-worker mode, not implemented yet\n");
}

std::string version_text(bool details) {
    utsname u{};
    uname(&u);
    std::string out = fmt::format(
        "HAProxy version {} {} - file:///usr/share/doc/sluice/README.md\n"
        "Status: sluice {}, a load balancer compatible with HAProxy {}.\n"
        "Known bugs: see the project's issue tracker\n"
        "Running on: {} {} {} {}\n",
        build::version(), build::kDate, SLUICE_VERSION, build::compat_version(), u.sysname,
        u.release, u.version, u.machine);
    if (!details) return out;
    out += fmt::format(
        "Build options :\n"
        "  TARGET  = linux-glibc\n"
        "  CPU     = generic\n"
        "  CC      = {}\n"
        "  CFLAGS  = {}\n"
        "  OPTIONS = USE_EPOLL=1 USE_LIBEV=1 USE_THREAD=1 USE_LINUX_SPLICE=1 USE_ACCEPT4=1\n"
        "  DEBUG   = \n\n",
        build::kCompiler, build::kCxxFlags);
    out += "Feature list :";
    for (const build::Feature& f : build::features())
        out += fmt::format(" {}{}", f.enabled ? '+' : '-', f.name);
    out += "\n\n";
    out += "Default settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n\n";
    out += "Built with multi-threading support (MAX_THREADS=64, default=all CPUs).\n";
    out += fmt::format("Built with OpenSSL version : {}\n", OPENSSL_VERSION_TEXT);
    out += fmt::format("Running on OpenSSL version : {}\n", OpenSSL_version(OPENSSL_VERSION));
    out += fmt::format("Built with libev version : {}.{}\n", EV_VERSION_MAJOR, EV_VERSION_MINOR);
    out +=
        fmt::format("Running on libev version : {}.{}\n", ev_version_major(), ev_version_minor());
    out += fmt::format("Built with libfmt version : {}\n", FMT_VERSION);
    out += fmt::format("Built with {} compiler version {}\n\n", "C++", build::kCompiler);
    out +=
        "Available polling systems :\n"
        "      epoll : pref=300,  test result OK\n"
        "Total: 1 (1 usable), will use epoll.\n\n";
    out +=
        "Available multiplexer protocols :\n"
        "(protocols marked as <default> cannot be specified using 'proto' keyword)\n"
        "  <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n"
        "       none : mode=TCP   side=FE|BE  mux=PASS  flags=NO_UPG\n\n";
    out += "Available services : none\n\n";
    out += "Available filters : none\n";
    return out;
}

}  // namespace sluice
