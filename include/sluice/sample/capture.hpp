// Captures, as HAProxy keeps them for its logs: a frontend declares numbered slots for the
// request and for the response (`capture request header`, `capture response header`, `declare
// capture`, `http-request capture ... len`, `tcp-request content capture`), each transaction
// fills them (header captures when a head is parsed, capture actions and the capture-req/-res
// converters when they run), and the capture.* fetches read them back, in either direction.
// Logging (%hr, %hs) will read the same store.
//
// The slots belong to the frontend: a backend's `http-request capture ... id N` writes into the
// slots of whichever frontend the transaction came through. A transaction's values live in a
// Captures taken from a per-thread pool when the transaction starts and given back when it
// ends, so a frontend without captures costs nothing, and an idle connection holds none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/util/result.hpp"

namespace sluice::sample {

struct CaptureSlot {
    std::string header;     // the header it captures; empty for a slot that rules fill
    std::uint32_t len = 0;  // at most this many bytes are kept
};

// A proxy section's slots, in its cfg::Parts, numbered in the order the lines declaring them
// came (request and response slots each from 0), as in HAProxy.
struct CaptureConf {
    std::vector<CaptureSlot> req, res;
    bool empty() const { return req.empty() && res.empty(); }
};

// `len N` of the capture keywords and actions: a decimal number (HAProxy reads it with atoi).
// `positive`: 0 is refused too.
util::Result<std::uint32_t> parse_capture_len(std::string_view text, bool positive);

// A capture id (`http-request capture ... id N`, capture-req(N)).
util::Result<std::uint32_t> parse_capture_id(std::string_view text);

// A request line as HAProxy keeps it for its logs: "METHOD TARGET HTTP/x.y", cut at this many
// bytes (tune.http.logurilen's default, less its NUL).
inline constexpr std::size_t kRequestLineMax = 1023;

// One transaction's captured values.
class Captures {
  public:
    // Empties every slot, for a new transaction of a frontend with `conf`'s slots (which
    // outlive this transaction).
    void reset(const CaptureConf& conf);

    // Stores `value` into slot `index` of that direction, cut at the slot's length and, as
    // HAProxy keeps C strings, at a NUL byte. False when there is no such slot.
    bool store(bool response, std::size_t index, std::string_view value);
    // The value in a slot; false when the slot does not exist or holds nothing yet.
    bool get(bool response, std::size_t index, std::string_view& out) const;
    std::size_t slots(bool response) const { return response ? res_.size() : req_.size(); }

    // The request line (see kRequestLineMax), kept when something reads it after the head is
    // gone (capture.req.method, capture.req.uri; later the logs' %r).
    void set_request_line(std::string_view method, std::string_view target,
                          std::string_view version);
    bool request_line(std::string_view& out) const;

    // `capture cookie` (logs' %CC, %CS): the first request cookie, or response Set-Cookie,
    // whose name starts with the configured one, as "name=value" cut at `len` bytes.
    void set_cookie(bool response, std::string_view name_value, std::uint32_t len);
    bool cookie(bool response, std::string_view& out) const;

  private:
    struct Slot {
        std::string value;  // keeps its capacity from one transaction to the next
        std::uint32_t len = 0;
        bool set = false;
    };
    std::vector<Slot> req_, res_;
    std::string line_;
    bool line_set_ = false;
    std::string cookie_[2];  // request, response
    bool cookie_set_[2] = {false, false};
};

// Gives a Captures back to this thread's pool.
struct CapturesRelease {
    void operator()(Captures* c) const noexcept;
};
using CapturesPtr = std::unique_ptr<Captures, CapturesRelease>;

// A Captures from this thread's pool (after warm-up, no allocation), reset for `conf`.
CapturesPtr take_captures(const CaptureConf& conf);
// How many this thread's pool holds (tests).
std::size_t pooled_captures();

// Whether some expression of the configuration reads the request line after the head is gone
// (capture.req.method, capture.req.uri): streams then keep it for each transaction. Set when
// such an expression is parsed; the request line is cheap, a per-request search is not.
bool request_line_wanted();
// Sets it (a rule's log-format reads %r or its parts).
void note_request_line_wanted();

}  // namespace sluice::sample
