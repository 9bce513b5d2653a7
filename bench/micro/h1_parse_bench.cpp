// Cost of the HTTP/1 head parser (http/h1_parse.cpp) on the heads every proxied request pays
// for: a typical ~400-byte browser request head and a typical origin response head, parsed in
// one call; plus the framing analysis and the chunked decoder. Time per iteration is ns/head.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "sluice/http/h1_chunked.hpp"
#include "sluice/http/h1_parse.hpp"

namespace {

using namespace sluice::http;

// What a current Chrome sends for a sub-resource, trimmed of client hints: 11 fields.
constexpr std::string_view kBrowserRequest =
    "GET /assets/js/main.4f2a1c9b.js?v=3 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: sid=8f14e45fceea167a\r\n"
    "\r\n";

// A static file from nginx behind a CDN: 10 fields.
constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx\r\n"
    "Date: Mon, 27 May 2024 10:12:31 GMT\r\n"
    "Content-Type: application/javascript; charset=utf-8\r\n"
    "Content-Length: 48213\r\n"
    "Last-Modified: Fri, 24 May 2024 08:01:02 GMT\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"66504a2e-bc55\"\r\n"
    "Cache-Control: public, max-age=31536000, immutable\r\n"
    "Vary: Accept-Encoding\r\n"
    "Accept-Ranges: bytes\r\n"
    "\r\n";

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

void BM_ParseRequestHead(benchmark::State& state) {
    RequestHead head;  // reused, as a stream reuses its own
    for (auto _ : state) {
        HeadResult r = parse_request_head(bytes(kBrowserRequest), 0, head);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(head.headers.size());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBrowserRequest.size()));
    state.SetLabel(std::to_string(kBrowserRequest.size()) + " bytes");
}
BENCHMARK(BM_ParseRequestHead);

void BM_ParseResponseHead(benchmark::State& state) {
    ResponseHead head;
    for (auto _ : state) {
        HeadResult r = parse_response_head(bytes(kResponse), 0, head);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(head.headers.size());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kResponse.size()));
    state.SetLabel(std::to_string(kResponse.size()) + " bytes");
}
BENCHMARK(BM_ParseResponseHead);

// A resumed call that finds no end of head in the last bytes: the cost of a trickling client.
void BM_ResumeWithoutEnd(benchmark::State& state) {
    RequestHead head;
    const auto in = bytes(kBrowserRequest).first(kBrowserRequest.size() - 2);
    for (auto _ : state) {
        HeadResult r = parse_request_head(in, in.size() - 16, head);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ResumeWithoutEnd);

void BM_AnalyzeRequestFraming(benchmark::State& state) {
    RequestHead head;
    (void)parse_request_head(bytes(kBrowserRequest), 0, head);
    for (auto _ : state) {
        Framing f = analyze_request_framing(head);
        benchmark::DoNotOptimize(f);
    }
}
BENCHMARK(BM_AnalyzeRequestFraming);

// 64 KiB of payload in 4 KiB chunks: the decoder's cost is per chunk, not per byte.
void BM_DecodeChunked(benchmark::State& state) {
    std::string body;
    for (int i = 0; i < 16; ++i)
        body += "1000\r\n" + std::string(4096, 'x') + "\r\n";
    body += "0\r\n\r\n";
    for (auto _ : state) {
        ChunkedDecoder dec{};
        std::span<const std::byte> in = bytes(body);
        std::size_t payload = 0;
        for (;;) {
            const ChunkStep s = decode_chunked(dec, in);
            payload += s.data.size();
            in = in.subspan(s.consumed);
            if (s.event != ChunkEvent::Payload) break;
        }
        benchmark::DoNotOptimize(payload);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DecodeChunked);

}  // namespace
