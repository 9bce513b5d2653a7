// Base64 (RFC 4648's standard alphabet), decoded strictly as HAProxy does: whole 4-character
// groups, '=' padding only at the very end, no blanks. Used by the b64dec converter and by
// HTTP Basic credentials.
#pragma once

#include <string>
#include <string_view>

namespace sluice::util {

// Appends the bytes `in` encodes to `out`; false (with `out` partly written) when `in` is not
// strict base64.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace sluice::util
