import Testing

@Test func placeholderLlamaTests() { #expect(Bool(true)) }
