// Fuzzes the SMTP reply reader of e-mail alerts (check/mailers.cpp): a mailer's bytes, read
// reply after reply as a mail session does. A complete reply must lie within the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sluice/check/mailers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using sluice::check::SmtpReply;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (true) {
        const SmtpReply r = sluice::check::parse_smtp_reply(in);
        if (r.state != SmtpReply::State::Complete) break;
        if (r.length == 0 || r.length > in.size() || r.code < 200 || r.code > 599) __builtin_trap();
        in.remove_prefix(r.length);
    }
    return 0;
}
