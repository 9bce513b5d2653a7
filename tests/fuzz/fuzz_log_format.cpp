// Fuzzes log-format strings (sample/format.cpp, sample/log_vars.cpp): the input is parsed as a
// format with the log formats' available data, and whatever parses is rendered in every mode
// from a fixed log::Record (with an IPv6 client, captures holding bytes every encoder must
// handle, a request line) and once without a Record. Checked for every input:
//  - a format that parses renders in Rule, Log and Json modes without crashing;
//  - the JSON rendering is one object: it starts with '{' and ends with '}', and holds no raw
//    control byte (they are escaped);
//  - a Log rendering never starts with a space (HAProxy's separators).
// Inputs with many commas are skipped: converter chains grow samples exponentially.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sluice/log/proxy_format.hpp"
#include "sluice/log/record.hpp"
#include "sluice/net/address.hpp"
#include "sluice/sample/format.hpp"

namespace {

using namespace sluice;

struct Fixture {
    net::Address client, server;
    log::Record::Captured req[2] = {{"h{\"\xe9 \\|}", true}, {"", false}};
    log::Record::Captured res[1] = {{"\x01]\x7f", true}};
    log::Record rec;
    Fixture() {
        net::parse_numeric_ip("2001:db8::1", 51234, client);
        net::parse_numeric_ip("10.0.0.2", 80, server);
        rec.accept_us = 1796651620375000;
        rec.request_us = rec.accept_us + 2000;
        rec.client = &client;
        rec.server = &server;
        rec.frontend_name = "fe";
        rec.backend_name = "be";
        rec.http = true;
        rec.status = 200;
        rec.method = "GET";
        rec.uri = "http://h/a\"b#c?x=\x01";
        rec.version = "HTTP/1.1";
        rec.request_headers = req;
        rec.response_headers = res;
        rec.request_cookie = {"SID=\"]", true};
        rec.logasap = true;
        rec.redispatched = true;
        rec.tr = 3;
        rec.tt = 9;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture fx;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::size_t commas = 0;
    for (char c : text)
        commas += c == ',';
    if (commas > 8) return 0;
    auto f = sample::Format::parse(text, log::kLogFormatUse);
    if (!f) return 0;
    using Mode = sample::Format::Mode;
    for (bool with_record : {true, false}) {
        for (Mode mode : {Mode::Rule, Mode::Log, Mode::Json}) {
            sample::Arena arena;
            sample::Context ctx(arena);
            if (with_record) ctx.attach(&fx.rec);
            std::string out;
            f->render(ctx, out, mode);
            if (mode == Mode::Json) {
                if (out.size() < 2 || out.front() != '{' || out.back() != '}') std::abort();
                for (char c : out)
                    if (static_cast<unsigned char>(c) < 0x20) std::abort();
            }
            if (mode == Mode::Log && !out.empty() && out.front() == ' ') std::abort();
        }
    }
    (void)f->http_only_variable();
    return 0;
}
