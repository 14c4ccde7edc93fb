import Testing

@Test func placeholderTensorTests() { #expect(Bool(true)) }
