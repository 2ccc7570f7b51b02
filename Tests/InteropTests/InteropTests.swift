import Testing
@testable import ZarrIO
