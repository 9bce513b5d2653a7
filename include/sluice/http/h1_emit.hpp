// Writing HTTP/1.x heads: a bounded writer into a connection buffer's free room. Heads are
// rebuilt from the parser's views (start line, then the fields the caller keeps, then the ones
// it adds), so what the parser tolerates (bare LF line ends, runs of spaces in the request
// line) leaves normalized. Field names keep the case they arrived with.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

#include "sluice/http/h1_parse.hpp"

namespace sluice::http {

// The usual reason phrase of a status ("Found" for 302); "" for one without a common phrase.
std::string_view default_reason(unsigned status);

class HeadWriter {
  public:
    explicit HeadWriter(std::span<std::byte> room) : room_(room) {}

    void raw(std::string_view s) {
        if (s.size() > room_.size() - used_) {
            overflow_ = true;
            return;
        }
        std::memcpy(room_.data() + used_, s.data(), s.size());
        used_ += s.size();
    }
    void request_line(const RequestHead& h) {
        raw(h.method);
        raw(" ");
        raw(h.target);
        if (!h.version_text.empty()) {
            raw(" ");
            raw(h.version_text);
        }
        raw("\r\n");
    }
    void status_line(const ResponseHead& h) {
        raw(h.version_text);
        raw(" ");
        char code[4] = {static_cast<char>('0' + h.status / 100),
                        static_cast<char>('0' + h.status / 10 % 10),
                        static_cast<char>('0' + h.status % 10), ' '};
        raw({code, 4});
        raw(h.reason);
        raw("\r\n");
    }
    void field(std::string_view name, std::string_view value) {
        raw(name);
        raw(": ");
        raw(value);
        raw("\r\n");
    }
    void end() { raw("\r\n"); }

    // One Connection field from the message's own: its tokens other than `close` and
    // `keep-alive` (hop-by-hop names such as `upgrade` or `X-Foo` travel on, as HAProxy lets
    // them), then `ours` when not empty. Nothing at all when both are empty.
    void connection_field(const HeaderList& headers, std::string_view ours);

    std::size_t size() const { return used_; }
    bool overflow() const { return overflow_; }

  private:
    std::span<std::byte> room_;
    std::size_t used_ = 0;
    bool overflow_ = false;
};

}  // namespace sluice::http
