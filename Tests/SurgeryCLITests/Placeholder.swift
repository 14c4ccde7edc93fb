import Testing

@Test func placeholderSurgeryCLITests() { #expect(Bool(true)) }
