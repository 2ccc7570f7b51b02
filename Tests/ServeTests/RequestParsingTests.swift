import Testing
@testable import OMEZarrServe

@Suite("Request targets and ranges")
struct RequestParsingTests {
  static let token = String(repeating: "ab", count: 20)

  @Test(arguments: [
    ("/\(token)/0/zarr.json", RequestTarget.key("0/zarr.json")),
    ("/\(token)/0/c/1/2?x=1", .key("0/c/1/2")),
    ("/\(token)/a%20b/%7e", .key("a b/~")),
    ("/\(token)/caf%C3%A9", .key("café")),
    ("/\(token)/", .key("")),
    ("/\(token)", .key("")),
    ("/\(token)/a/", .key("")),
    ("/\(token)/a//b", .notFound),
    ("/\(token)//", .notFound),
    ("/0/zarr.json", .notFound),
    ("/\(token.dropLast())0/0/zarr.json", .notFound),
    ("0/zarr.json", .notFound),
    ("/\(token)/../x", .forbidden),
    ("/\(token)/a/./b", .forbidden),
    ("/\(token)/%2e%2e/x", .forbidden),
    ("/\(token)/%2E/x", .forbidden),
    ("/\(token)/a%2fb", .forbidden),
    ("/\(token)/a%5cb", .forbidden),
    ("/\(token)/a\\b", .forbidden),
    ("/\(token)/a%00", .forbidden),
    ("/\(token)/a%zz", .forbidden),
    ("/\(token)/a%2", .forbidden),
    ("/\(token)/%ff", .forbidden),
  ])
  func targets(_ path: String, _ expected: RequestTarget) {
    #expect(RequestTarget(path: path, token: Self.token) == expected, "\(path)")
  }

  @Test func withoutAToken() {
    #expect(RequestTarget(path: "/0/zarr.json", token: nil) == .key("0/zarr.json"))
    #expect(RequestTarget(path: "/", token: nil) == .key(""))
    #expect(RequestTarget(path: "/%2e%2e", token: nil) == .forbidden)
  }

  @Test(arguments: [
    (nil, 100, RangeRequest.whole),
    ("bytes=0-9", 100, .part(0..<10)),
    ("bytes=10-999", 100, .part(10..<100)),
    ("bytes=99-99", 100, .part(99..<100)),
    ("bytes=5-", 100, .part(5..<100)),
    ("bytes=-16", 100, .part(84..<100)),
    ("bytes=-1000", 100, .part(0..<100)),
    (" BYTES=1 - 2 ", 100, .part(1..<3)),
    ("bytes = 1-2", 100, .whole),
    ("bytes=100-", 100, .unsatisfiable),
    ("bytes=100-200", 100, .unsatisfiable),
    ("bytes=-0", 100, .unsatisfiable),
    ("bytes=0-0", 0, .unsatisfiable),
    ("bytes=-5", 0, .unsatisfiable),
    ("bytes=0-1,4-5", 100, .whole),
    ("bytes=9-3", 100, .whole),
    ("bytes=a-b", 100, .whole),
    ("bytes=+1-2", 100, .whole),
    ("bytes=-", 100, .whole),
    ("items=0-1", 100, .whole),
    ("bytes=", 100, .whole),
    ("bytes=1234567890123456789-", 100, .whole),
  ] as [(String?, Int, RangeRequest)])
  func ranges(_ header: String?, _ size: Int, _ expected: RangeRequest) {
    #expect(RangeRequest(header: header, size: size) == expected, "\(header ?? "nil") of \(size)")
  }

  @Test func mediaTypes() {
    #expect(StoreResponder.contentType("0/zarr.json") == "application/json")
    #expect(StoreResponder.contentType(".zattrs") == "application/json")
    #expect(StoreResponder.contentType("index.html") == "text/html; charset=utf-8")
    #expect(StoreResponder.contentType("a.b/c") == "application/octet-stream")
    #expect(StoreResponder.contentType("0/c/0/0") == "application/octet-stream")
  }

  @Test func httpDates() {
    #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    #expect(HTTPDate.format(1_796_557_138) == "Sun, 06 Dec 2026 11:38:58 GMT")
  }
}
