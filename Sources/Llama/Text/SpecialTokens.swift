// Special and added tokens ("<|im_start|>", "<s>") are found in the text before any BPE runs, and the
// text between them is tokenized piece by piece. Matching is leftmost-longest on whole strings, as
// Hugging Face tokenizers' AddedVocabulary does (aho-corasick, MatchKind::LeftmostLongest).

/// Finds added tokens in text: at the leftmost position where any matches, the longest one wins.
struct SpecialTokenMatcher: Sendable {
    /// A stretch of text to tokenize, or a token found whole.
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private struct Candidate: Sendable {
        var scalars: [Unicode.Scalar]
        var id: Int32
    }

    /// Candidates by their first scalar, longest first.
    private var candidates: [UInt32: [Candidate]] = [:]

    init(_ tokens: [(content: String, id: Int32)]) {
        for (content, id) in tokens {
            let scalars = Array(content.unicodeScalars)
            guard let first = scalars.first else { continue }   // an empty token can never be found
            candidates[first.value, default: []].append(Candidate(scalars: scalars, id: id))
        }
        for key in candidates.keys {
            candidates[key]!.sort { $0.scalars.count > $1.scalars.count }
        }
    }

    var isEmpty: Bool { candidates.isEmpty }

    /// Cuts `scalars` into text ranges and whole tokens, in order.
    func split(_ scalars: [Unicode.Scalar]) -> [Piece] {
        if candidates.isEmpty { return scalars.isEmpty ? [] : [.text(0..<scalars.count)] }
        var pieces: [Piece] = []
        var textStart = 0
        var i = 0
        while i < scalars.count {
            if let list = candidates[scalars[i].value], let match = list.first(where: { matches($0.scalars, scalars, at: i) }) {
                if textStart < i { pieces.append(.text(textStart..<i)) }
                pieces.append(.token(match.id))
                i += match.scalars.count
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < scalars.count { pieces.append(.text(textStart..<scalars.count)) }
        return pieces
    }

    private func matches(_ needle: [Unicode.Scalar], _ haystack: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + needle.count <= haystack.count else { return false }
        for k in 0..<needle.count where haystack[i + k] != needle[k] { return false }
        return true
    }
}
