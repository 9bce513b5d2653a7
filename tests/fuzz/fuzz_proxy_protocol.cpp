// Fuzzes the PROXY protocol header parser (net/proxy_protocol.cpp). Checked for every input:
//  - Done: the header length is within the input and within kMaxProxyHeader, and every prefix
//    of those bytes is Incomplete (a header arriving in pieces is never refused, and a reader
//    may consume an incomplete header's bytes: they all belong to it);
//  - Incomplete: the input is shorter than the longest header;
//  - what write_proxy_header writes for parsed addresses parses back to the same addresses.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "sluice/net/proxy_protocol.hpp"

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sluice::net;
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    ProxyHeader h;
    const ProxyParse r = parse_proxy_header(in, h);
    if (r == ProxyParse::Incomplete) {
        check(size < kMaxProxyHeader);
        return 0;
    }
    if (r != ProxyParse::Done) return 0;
    check(h.length > 0 && h.length <= size && h.length <= kMaxProxyHeader);
    for (std::size_t n = 0; n < h.length; ++n) {
        ProxyHeader p;
        check(parse_proxy_header(in.first(n), p) == ProxyParse::Incomplete);
    }
    if (!h.local) {
        std::byte out[256];
        for (int version : {1, 2}) {
            const std::size_t n = write_proxy_header(version, h.src, h.dst, out);
            ProxyHeader back;
            check(parse_proxy_header(std::span(out, n), back) == ProxyParse::Done);
            check(back.length == n && !back.local);
            check(back.src.length == h.src.length &&
                  std::memcmp(&back.src.storage, &h.src.storage, h.src.length) == 0);
            check(back.dst.length == h.dst.length &&
                  std::memcmp(&back.dst.storage, &h.dst.storage, h.dst.length) == 0);
        }
    }
    return 0;
}
