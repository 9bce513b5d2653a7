// Fuzzes map references (sample/pattern_ref.cpp) as the runtime API drives them: the input is
// a script, one operation per line (first byte: the operation; the rest: a `<<` payload line
// or a key), run against a reference compiled for `str` and `beg`, and checked against a plain
// list after every step: each key the list holds is found with the value of its first entry,
// `show map` lists the list in order, and a removed key is gone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/sample/pattern_ref.hpp"

using namespace sluice::sample;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view script(reinterpret_cast<const char*>(data), size);
    PatternRef ref("fuzz.map", "");
    auto str =
        ref.attach(RefExpr{.method = Match::Str, .flags = {}, .kind = ValueKind::Str, .op = {}},
                   PatternRef::Map, "map");
    auto beg =
        ref.attach(RefExpr{.method = Match::Beg, .flags = {}, .kind = ValueKind::Str, .op = {}},
                   PatternRef::Map, "map");
    if (!str || !beg) std::abort();
    std::vector<std::pair<std::string, std::string>> model;
    std::size_t steps = 0;
    while (!script.empty() && steps++ < 64) {
        const std::size_t eol = script.find('\n');
        std::string_view line = script.substr(0, eol);
        script = eol == std::string_view::npos ? std::string_view{} : script.substr(eol + 1);
        if (line.empty()) continue;
        const char op = line[0];
        const std::string_view arg = line.substr(1);
        const auto items = split_entries(arg, true);
        switch (op % 4) {
            case 0:  // add map <<
                if (!ref.add(std::nullopt, items, true)) std::abort();
                for (const auto& it : items)
                    model.emplace_back(it.key, it.value);
                break;
            case 1: {  // del map KEY
                if (items.empty()) break;
                const std::string key(items[0].key);
                bool had = false;
                std::erase_if(model,
                              [&](const auto& kv) { return kv.first == key && (had = true); });
                if (ref.del_key(key) != had) std::abort();
                break;
            }
            case 2: {  // set map KEY VALUE
                if (items.empty()) break;
                bool found = false;
                if (!ref.set_key(items[0].key, items[0].value, found)) std::abort();
                bool had = false;
                for (auto& kv : model)
                    if (kv.first == items[0].key) {
                        kv.second = items[0].value;
                        had = true;
                    }
                if (found != had) std::abort();
                break;
            }
            default:  // prepare + commit an empty version
                if (!ref.commit(ref.prepare())) std::abort();
                model.clear();
                break;
        }
        std::string expect, dumped;
        for (const auto& [k, v] : model) {
            const RefHit got = ref.compiled(*str).lookup(Sample::string(k));
            std::string first;
            for (const auto& kv : model)
                if (kv.first == k) {
                    first = kv.second;
                    break;
                }
            if (!got || got.value() != first) std::abort();
            if (!ref.compiled(*beg).lookup(Sample::string(k))) std::abort();
            expect += k + " " + v + "\n";
        }
        ref.dump(dumped, std::nullopt);
        // Drop the ids: "0x... key value".
        std::string plain;
        for (std::size_t at = 0; at < dumped.size();) {
            const std::size_t end = dumped.find('\n', at);
            const std::size_t sp = dumped.find(' ', at);
            plain += dumped.substr(sp + 1, end - sp);
            at = end + 1;
        }
        if (plain != expect) std::abort();
        if (ref.entries() != model.size()) std::abort();
    }
    return 0;
}
