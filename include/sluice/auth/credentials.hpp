// Reading credentials out of an Authorization header the way HAProxy 2.6 does, for the
// http_auth* fetches. Only Basic credentials are ever checked against a userlist; a Bearer
// token is only handed out (http_auth_bearer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::auth {

enum class Scheme : std::uint8_t { None, Basic, Bearer };

struct Credentials {
    Scheme scheme = Scheme::None;
    std::string_view user;      // Basic
    std::string_view password;  // Basic
    std::string_view token;     // Bearer
};

// `value` is the first comma-separated element of the first Authorization field, blanks
// trimmed. The scheme is the text before the first space, compared without case as a prefix
// of "Basic", then of "Bearer" (HAProxy 2.6 compares only the length given, so "B" is Basic
// and "Bear" Bearer); the credentials follow after any spaces. Basic credentials are strict
// base64 (padded, no blanks) of `user:password`: the user ends at the first ':', the password
// at the first NUL, and a NUL in the user spoils them. Decoded bytes go to `scratch`, which
// the result points into. Anything else gives Scheme::None.
Credentials parse_authorization(std::string_view value, std::string& scratch);

// http_auth_bearer(<header>): `value` (first element, trimmed) is "Bearer" in any case, a
// space, then the token after any further spaces. Empty when it is not.
std::string_view bearer_token(std::string_view value);

}  // namespace sluice::auth
