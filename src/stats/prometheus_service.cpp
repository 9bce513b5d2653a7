// `http-request use-service prometheus-exporter`: answers a scrape with the metrics of
// prometheus.cpp, in one response built at once (the stream sends it as the socket takes it).
#include <fmt/format.h>

#include "sluice/http/error_pages.hpp"
#include "sluice/rules/service.hpp"
#include "sluice/stats/prometheus.hpp"

namespace sluice::stats {
namespace {

class PrometheusExporter final : public rules::Service {
  public:
    std::string_view log_name() const override { return "<PROMEX>"; }
    void serve(const rules::ServiceRequest& request, rules::ServiceReply& reply) const override {
        const std::string_view target = request.head.target;
        const std::size_t q = target.find('?');
        const auto query = parse_prom_query(q == std::string_view::npos ? std::string_view()
                                                                        : target.substr(q + 1));
        if (!query) {
            // As HAProxy: its plain 400 page for a scope it does not know.
            reply.status = 400;
            reply.fields = "content-type: text/html\r\ncache-control: no-cache\r\n";
            if (const http::ErrorPage* page = http::default_error_page(400))
                reply.body = page->body;
            return;
        }
        reply.status = 200;
        reply.fields = "cache-control: no-cache\r\ncontent-type: ";
        reply.fields += kPromContentType;
        reply.fields += "\r\n";
        prometheus(reply.body, request.config, process_now(request.config), *query);
    }
};

util::Result<std::shared_ptr<const rules::Service>> make_exporter(
    std::span<const std::string> args) {
    // HAProxy's words: what follows the service's name can only be the rule's condition.
    if (!args.empty())
        return util::error(
            fmt::format("'http-request use-service' expects either 'if' or "
                        "'unless' followed by a condition but found '{}'.",
                        args[0]));
    return std::shared_ptr<const rules::Service>(std::make_shared<PrometheusExporter>());
}

constexpr rules::ServiceDef kServices[] = {
    {.name = "prometheus-exporter", .make = make_exporter},
};
const rules::ServiceRegistrar kRegistered{kServices};

}  // namespace
}  // namespace sluice::stats
