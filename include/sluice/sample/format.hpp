// Log-format strings as rules use them (`http-request set-header X %[src]`, `use_backend
// %[req.hdr(host),lower]`): literal text and `%[expr]` samples, compiled once when the config
// is read and rendered per request into a caller's buffer. The log-format variables (`%ci`,
// `%ST`, ...) come with logging (issue #8) and are refused clearly until then.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/expr.hpp"

namespace sluice::sample {

class Format {
  public:
    static util::Result<Format> parse(std::string_view text, Use available);
    // Appends the rendering to `out`; a sample that has no value renders as nothing (as
    // HAProxy does outside logs).
    void render(Context& ctx, std::string& out) const;
    bool constant() const { return pieces_.size() <= 1 && (pieces_.empty() || !pieces_[0].expr); }
    const std::string& text() const { return text_; }

  private:
    struct Piece {
        std::string literal;
        std::optional<Expr> expr;
    };
    std::vector<Piece> pieces_;
    std::string text_;
};

}  // namespace sluice::sample
