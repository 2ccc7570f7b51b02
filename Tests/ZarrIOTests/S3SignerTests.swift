import Foundation
import Testing

@testable import ZarrIO

/// AWS Signature V4 against the published examples (S3 header and query auth, the generic suite's
/// get-vanilla, the signing-key example) and the encoding rules.
@Suite("S3 signer")
struct S3SignerTests {
  /// The credentials and time of the S3 examples in the AWS docs (sig-v4-header-based-auth).
  static let example = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
  /// 20130524T000000Z.
  static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)
  static let host = "examplebucket.s3.amazonaws.com"
  static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

  // MARK: The S3 examples

  @Test func getObjectWithRange() {
    let signer = S3Signer(credentials: Self.example, region: "us-east-1")
    let headers = ["Host": Self.host, "Range": "bytes=0-9"]
    let added = signer.sign(method: "GET", path: "/test.txt", query: [], headers: headers, payloadHash: S3Signer.emptyPayloadHash,
                            date: Self.exampleDate)
    #expect(added.count == 3)
    #expect(added["x-amz-date"] == "20130524T000000Z")
    #expect(added["x-amz-content-sha256"] == Self.empty)
    #expect(added["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
      + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
      + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")

    // The intermediate steps, as printed in the example.
    var all = ["host": Self.host, "range": "bytes=0-9"]
    all["x-amz-date"] = "20130524T000000Z"
    all["x-amz-content-sha256"] = Self.empty
    let canonical = S3Signer.canonicalRequest(method: "GET", path: "/test.txt", query: [], headers: all, payloadHash: Self.empty)
    #expect(canonical.text == """
      GET
      /test.txt

      host:examplebucket.s3.amazonaws.com
      range:bytes=0-9
      x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
      x-amz-date:20130524T000000Z

      host;range;x-amz-content-sha256;x-amz-date
      e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
      """)
    #expect(S3Signer.sha256Hex(Array(canonical.text.utf8)) == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
    #expect(S3Signer.stringToSign(amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request", canonicalRequest: canonical.text)
      == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
  }

  /// Header names in any case, values with surrounding and repeated whitespace, and a stale
  /// `x-amz-date`/`authorization` from the caller change nothing.
  @Test func headerNamesAndValuesAreCanonicalised() {
    let signer = S3Signer(credentials: Self.example, region: "us-east-1")
    let headers = ["HOST": "  examplebucket.s3.amazonaws.com ", "rAnGe": "bytes=0-9 \t ", "X-Amz-Date": "19990101T000000Z",
                   "Authorization": "stale"]
    let added = signer.sign(method: "GET", path: "/test.txt", query: [], headers: headers, payloadHash: Self.empty, date: Self.exampleDate)
    #expect(added["authorization"]?.hasSuffix("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") == true)
    #expect(added["x-amz-date"] == "20130524T000000Z")
    #expect(S3Signer.canonicalHeaderValue("  a   b \t\tc  ") == "a b c")
    #expect(S3Signer.canonicalHeaderValue("bytes=0-9") == "bytes=0-9")
  }

  @Test func putObjectWithStorageClass() {
    let signer = S3Signer(credentials: Self.example, region: "us-east-1")
    let body = Array("Welcome to Amazon S3.".utf8)
    let payloadHash = S3Signer.sha256Hex(body)
    #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
    let path = "/" + S3Signer.uriEncode("test$file.text", encodeSlash: false)
    #expect(path == "/test%24file.text")
    let headers = ["Host": Self.host, "Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"]
    let added = signer.sign(method: "PUT", path: path, query: [], headers: headers, payloadHash: payloadHash, date: Self.exampleDate)
    #expect(added["x-amz-content-sha256"] == payloadHash)
    #expect(added["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
      + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
      + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
  }

  @Test func listObjects() {
    let signer = S3Signer(credentials: Self.example, region: "us-east-1")
    // Given out of order: the canonical query sorts them.
    let added = signer.sign(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: ["host": Self.host],
                            payloadHash: S3Signer.emptyPayloadHash, date: Self.exampleDate)
    #expect(added["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
      + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
      + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
  }

  @Test func presignedGet() {
    let signer = S3Signer(credentials: Self.example, region: "us-east-1")
    let url = signer.presign(method: "GET", scheme: "https", host: Self.host, path: "/test.txt", query: [], expires: 86400,
                             date: Self.exampleDate)
    #expect(url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
      + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
      + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
  }

  /// Expiry is clamped to 1…604800 seconds.
  @Test func presignClampsExpiry() {
    let signer = S3Signer(credentials: Self.example, region: "us-east-1")
    let long = signer.presign(method: "GET", scheme: "https", host: Self.host, path: "/a", query: [], expires: 10_000_000, date: Self.exampleDate)
    #expect(long.contains("&X-Amz-Expires=604800&"))
    let none = signer.presign(method: "GET", scheme: "https", host: Self.host, path: "/a", query: [], expires: 0, date: Self.exampleDate)
    #expect(none.contains("&X-Amz-Expires=1&"))
  }

  // MARK: Session tokens (expected values from an independent Python hmac/hashlib computation)

  @Test func sessionTokenIsSentAndSigned() {
    var credentials = Self.example
    credentials.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN/+="
    let signer = S3Signer(credentials: credentials, region: "us-east-1")
    let added = signer.sign(method: "GET", path: "/test.txt", query: [], headers: ["host": Self.host, "range": "bytes=0-9"],
                            payloadHash: Self.empty, date: Self.exampleDate)
    #expect(added.count == 4)
    #expect(added["x-amz-security-token"] == "FQoGZXIvYXdzEXAMPLETOKEN/+=")
    #expect(added["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
      + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
      + "Signature=a942ebf0640259ec73476c86e5360212f37f0293affd8790b5e73bf14e1289a7")
  }

  @Test func presignWithSessionTokenPortAndQuery() {
    var credentials = Self.example
    credentials.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN/+="
    let signer = S3Signer(credentials: credentials, region: "us-east-1")
    let url = signer.presign(method: "PUT", scheme: "http", host: "127.0.0.1:5000", path: "/my%20bucket/key",
                             query: [("uploadId", "a b"), ("partNumber", "1")], expires: 3600, date: Self.exampleDate)
    #expect(url == "http://127.0.0.1:5000/my%20bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
      + "&X-Amz-Expires=3600&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN%2F%2B%3D&X-Amz-SignedHeaders=host"
      + "&partNumber=1&uploadId=a%20b"
      + "&X-Amz-Signature=5837c9b9506e72bb60d51afb7633553bb2b765c36920c9cce7102d03e68dfde3")
  }

  // MARK: The generic suite and the signing key

  /// get-vanilla of the Signature V4 test suite: service `service`, no x-amz-content-sha256 (S3 only).
  @Test func getVanilla() {
    let credentials = S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let signer = S3Signer(credentials: credentials, region: "us-east-1", service: "service")
    let added = signer.sign(method: "GET", path: "/", query: [], headers: ["Host": "example.amazonaws.com"],
                            payloadHash: S3Signer.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_440_938_160))
    #expect(added["x-amz-date"] == "20150830T123600Z")
    #expect(added["x-amz-content-sha256"] == nil)
    #expect(added["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
  }

  /// The signing-key example (20120215/us-east-1/iam), derived directly and through the cache.
  @Test func signingKey() {
    let expected = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    let derived = S3Signer.deriveSigningKey(secret: secret, day: "20120215", region: "us-east-1", service: "iam")
    #expect(derived.withUnsafeBytes { S3Signer.hex(Array($0)) } == expected)
    let signer = S3Signer(credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret), region: "us-east-1", service: "iam")
    let copy = signer
    #expect(signer.signingKey(day: "20120215").withUnsafeBytes { S3Signer.hex(Array($0)) } == expected)
    #expect(copy.signingKey(day: "20120215").withUnsafeBytes { S3Signer.hex(Array($0)) } == expected)
    #expect(signer.signingKey(day: "20120216").withUnsafeBytes { S3Signer.hex(Array($0)) } != expected)
  }

  // MARK: Encoding rules

  @Test func canonicalQuery() {
    #expect(S3Signer.canonicalQuery([]) == "")
    #expect(S3Signer.canonicalQuery([("prefix", "J"), ("max-keys", "2")]) == "max-keys=2&prefix=J")
    // An empty value is `name=`.
    #expect(S3Signer.canonicalQuery([("uploads", "")]) == "uploads=")
    #expect(S3Signer.canonicalQuery([("list-type", "2"), ("delimiter", "/"), ("prefix", "a b/c"), ("continuation-token", "1ue/Gc+x=")])
      == "continuation-token=1ue%2FGc%2Bx%3D&delimiter=%2F&list-type=2&prefix=a%20b%2Fc")
    // Sorted by name, then value: not as `name=value` strings ("a-b=1" < "a=1" as text).
    #expect(S3Signer.canonicalQuery([("a-b", "1"), ("a", "2"), ("a", "1")]) == "a=1&a=2&a-b=1")
    // Sorted after encoding: "é" (0xC3…) sorts after "~" raw, but "%C3%A9" sorts before it.
    #expect(S3Signer.canonicalQuery([("a~", "1"), ("aé", "2")]) == "a%C3%A9=2&a~=1")
  }

  @Test func uriEncode() {
    #expect(S3Signer.uriEncode("a b/c~d_e.f-g", encodeSlash: false) == "a%20b/c~d_e.f-g")
    #expect(S3Signer.uriEncode("a b/c~d_e.f-g", encodeSlash: true) == "a%20b%2Fc~d_e.f-g")
    #expect(S3Signer.uriEncode("+*!'()$&=?#%:@,;", encodeSlash: true) == "%2B%2A%21%27%28%29%24%26%3D%3F%23%25%3A%40%2C%3B")
    #expect(S3Signer.uriEncode("ü/\u{1F600}", encodeSlash: false) == "%C3%BC/%F0%9F%98%80")
    #expect(S3Signer.uriEncode("AZaz09", encodeSlash: true) == "AZaz09")
    #expect(S3Signer.uriEncode("", encodeSlash: true) == "")
    #expect(S3Signer.uriEncode("0/c/1", encodeSlash: false) == "0/c/1")
  }

  @Test func timestamps() {
    #expect(S3Signer.timestamps(Self.exampleDate) == ("20130524T000000Z", "20130524"))
    #expect(S3Signer.timestamps(Date(timeIntervalSince1970: 1_709_251_199)) == ("20240229T235959Z", "20240229"))
    #expect(S3Signer.timestamps(Date(timeIntervalSince1970: 1_709_251_199.9)) == ("20240229T235959Z", "20240229"))
    #expect(S3Signer.timestamps(Date(timeIntervalSince1970: 0)) == ("19700101T000000Z", "19700101"))
    #expect(S3Signer.timestamps(Date(timeIntervalSince1970: -1)) == ("19691231T235959Z", "19691231"))
    #expect(S3Signer.timestamps(Date(timeIntervalSince1970: 951_782_400)) == ("20000229T000000Z", "20000229"))
  }

  @Test func hashes() {
    #expect(S3Signer.emptyPayloadHash == Self.empty)
    #expect(S3Signer.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    let abc: [UInt8] = Array("abc".utf8)
    #expect(abc.withUnsafeBytes { S3Signer.sha256Hex($0) } == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(S3Signer.md5Base64([]) == "1B2M2Y8AsgTpgAmY7PhCfg==")
    let body = Array("<Delete><Quiet>true</Quiet><Object><Key>a/b</Key></Object></Delete>".utf8)
    #expect(S3Signer.md5Base64(body) == "Jq3ck6+Az69ud7++XM6tQA==")
    #expect(body.withUnsafeBytes { S3Signer.md5Base64($0) } == "Jq3ck6+Az69ud7++XM6tQA==")
  }
}
