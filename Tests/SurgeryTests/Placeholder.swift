import Testing

@Test func placeholderSurgeryTests() { #expect(Bool(true)) }
