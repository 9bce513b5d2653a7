// The renderings of stat rows and info values, byte for byte as HAProxy 2.6 prints them: CSV
// (and `key: value` for info), typed (`F.2.0.4.scur.1:MGP:u32:0`) and JSON.
#include <fmt/format.h>

#include "sluice/stats/stats.hpp"

namespace sluice::stats {
namespace {

std::string_view type_name(Type t) {
    switch (t) {
        case Type::S32:
            return "s32";
        case Type::S64:
            return "s64";
        case Type::U32:
            return "u32";
        case Type::U64:
            return "u64";
        case Type::Str:
            return "str";
    }
    return "str";
}

std::string_view origin_name(char c) {
    switch (c) {
        case 'M':
            return "Metric";
        case 'S':
            return "Status";
        case 'K':
            return "Key";
        case 'C':
            return "Config";
        case 'P':
            return "Product";
    }
    return "Unknown";
}

std::string_view nature_name(char c) {
    switch (c) {
        case 'A':
            return "Age";
        case 'a':
            return "Avg";
        case 'C':
            return "Counter";
        case 'D':
            return "Duration";
        case 'G':
            return "Gauge";
        case 'L':
            return "Limit";
        case 'M':
            return "Max";
        case 'N':
            return "Name";
        case 'O':
            return "Output";
        case 'R':
            return "Rate";
        case 'T':
            return "Time";
    }
    return "Unknown";
}

std::string_view scope_name(char c) {
    switch (c) {
        case 'P':
            return "Process";
        case 'S':
            return "Service";
        case 's':
            return "System";
    }
    return "Unknown";
}

char type_letter(ObjType t) {
    switch (t) {
        case ObjType::Frontend:
            return 'F';
        case ObjType::Backend:
            return 'B';
        case ObjType::Server:
            return 'S';
        case ObjType::Listener:
            return 'L';
    }
    return 'F';
}

std::string_view type_word(ObjType t) {
    switch (t) {
        case ObjType::Frontend:
            return "Frontend";
        case ObjType::Backend:
            return "Backend";
        case ObjType::Server:
            return "Server";
        case ObjType::Listener:
            return "Listener";
    }
    return "Unknown";
}

// A CSV field: quoted (quotes doubled) when it holds a separator, a quote or a line end.
void csv_field(std::string& out, std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
        out.append(s);
        return;
    }
    out.push_back('"');
    for (char c : s) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

void json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default:
                if (c < 0x20)
                    fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
                else
                    out.push_back(static_cast<char>(c));
        }
    }
    out.push_back('"');
}

void json_value(std::string& out, const Value& v) {
    out.append("{\"type\":\"");
    out.append(type_name(v.type));
    out.append("\",\"value\":");
    if (v.type == Type::Str)
        json_string(out, v.s);
    else
        append_value(out, v);
    out.push_back('}');
}

void json_field(std::string& out, std::size_t pos, const FieldDef& f, const Value& v) {
    fmt::format_to(std::back_inserter(out), "\"field\":{{\"pos\":{},\"name\":", pos);
    json_string(out, f.name);
    fmt::format_to(std::back_inserter(out),
                   "}},\"processNum\":1,\"tags\":{{\"origin\":\"{}\",\"nature\":\"{}\","
                   "\"scope\":\"{}\"}},\"value\":",
                   origin_name(f.tags[0]), nature_name(f.tags[1]), scope_name(f.tags[2]));
    json_value(out, v);
}

void append_desc(std::string& out, const FieldDef& f) {
    out.append(":\"");
    out.append(f.desc);
    out.push_back('"');
}

}  // namespace

void append_value(std::string& out, const Value& v) {
    if (!v.set) return;
    switch (v.type) {
        case Type::S32:
        case Type::S64:
            fmt::format_to(std::back_inserter(out), "{}", v.i);
            return;
        case Type::U32:
        case Type::U64:
            fmt::format_to(std::back_inserter(out), "{}", v.u);
            return;
        case Type::Str:
            out.append(v.s);
            return;
    }
}

void csv_header(std::string& out) {
    out.append("# ");
    const auto fields = stat_fields();
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i == kModuleFieldsAt) out.append("-,");
        out.append(fields[i].name);
        out.push_back(',');
    }
    out.push_back('\n');
}

void csv(std::string& out, const std::vector<Row>& rows) {
    for (const Row& row : rows) {
        for (std::size_t i = 0; i < row.values.size(); ++i) {
            if (i == kModuleFieldsAt) out.append("-,");
            const Value& v = row.values[i];
            if (v.set && v.type == Type::Str)
                csv_field(out, v.s);
            else
                append_value(out, v);
            out.push_back(',');
        }
        out.push_back('\n');
    }
}

void typed(std::string& out, const std::vector<Row>& rows, bool desc) {
    const auto fields = stat_fields();
    for (const Row& row : rows) {
        for (std::size_t i = 0; i < row.values.size(); ++i) {
            const Value& v = row.values[i];
            if (!v.set) continue;
            fmt::format_to(std::back_inserter(out),
                           "{}.{}.{}.{}.{}.1:{}:{}:", type_letter(row.type), row.proxy_id, row.id,
                           i, fields[i].name, fields[i].tags, type_name(v.type));
            append_value(out, v);
            if (desc) append_desc(out, fields[i]);
            out.push_back('\n');
        }
    }
}

void json(std::string& out, const std::vector<Row>& rows) {
    const auto fields = stat_fields();
    out.push_back('[');
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const Row& row = rows[r];
        if (r) out.push_back(',');
        out.push_back('[');
        bool first = true;
        for (std::size_t i = 0; i < row.values.size(); ++i) {
            const Value& v = row.values[i];
            if (!v.set) continue;
            if (!first) out.push_back(',');
            first = false;
            fmt::format_to(std::back_inserter(out),
                           "{{\"objType\":\"{}\",\"proxyId\":{},\"id\":{},", type_word(row.type),
                           row.proxy_id, row.id);
            json_field(out, i, fields[i], v);
            out.push_back('}');
        }
        out.push_back(']');
    }
    out.append("]\n");
}

void info_text(std::string& out, const std::vector<Value>& values, bool desc) {
    const auto fields = info_fields();
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!values[i].set) continue;
        out.append(fields[i].name);
        out.append(": ");
        append_value(out, values[i]);
        if (desc) append_desc(out, fields[i]);
        out.push_back('\n');
    }
}

void info_typed(std::string& out, const std::vector<Value>& values, bool desc) {
    const auto fields = info_fields();
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!values[i].set) continue;
        fmt::format_to(std::back_inserter(out), "{}.{}.1:{}:{}:", i, fields[i].name, fields[i].tags,
                       type_name(values[i].type));
        append_value(out, values[i]);
        if (desc) append_desc(out, fields[i]);
        out.push_back('\n');
    }
}

void info_json(std::string& out, const std::vector<Value>& values) {
    const auto fields = info_fields();
    out.push_back('[');
    bool first = true;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!values[i].set) continue;
        if (!first) out.push_back(',');
        first = false;
        out.push_back('{');
        json_field(out, i, fields[i], values[i]);
        out.push_back('}');
    }
    out.append("]\n");
}

}  // namespace sluice::stats
