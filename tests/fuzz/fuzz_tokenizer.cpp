// Fuzzes the config tokenizer and the conditional-block machinery together, as the reader uses
// them: the input is split into lines, each line is tokenized with a fixed fake environment,
// and lines whose first word starts with '.' drive one ConditionalStack. Each word also goes
// through the unit parsers, which read tokenizer output in real configs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/cfg/conditions.hpp"
#include "sluice/cfg/tokenizer.hpp"
#include "sluice/util/units.hpp"

namespace {

std::optional<std::string> fake_lookup(std::string_view name) {
    if (name == "HOME") return "/home/op";
    if (name == "EMPTY") return "";
    if (name == "LIST") return " a b\t c ";
    if (name == "WITH_SSL") return "yes";
    if (name == ".LINE") return "7";
    return std::nullopt;
}

bool fake_feature(std::string_view name) {
    return name == "OPENSSL" || name == "LUA";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sluice;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const cfg::EnvLookup env = fake_lookup;
    const cfg::ConditionEnv cond{.env = env, .has_feature = fake_feature, .version = "2.6.12"};
    cfg::ConditionalStack stack;

    std::size_t start = 0;
    while (start <= input.size()) {
        std::size_t end = input.find('\n', start);
        if (end == std::string_view::npos) end = input.size();
        const std::string_view line = input.substr(start, end - start);
        start = end + 1;

        auto tokens = cfg::tokenize_line(line, env);
        if (!tokens.ok() || tokens->words.empty()) continue;
        for (const std::string& w : tokens->words) {
            (void)util::parse_duration(w);
            (void)util::parse_size(w);
            (void)util::parse_uint(w, 65535);
        }
        if (!tokens->words[0].empty() && tokens->words[0][0] == '.') {
            (void)stack.apply(tokens->words, cond);
            (void)stack.active();
        }
    }
    return 0;
}
