extension Query {
    /// The query in one canonical spelling: lower-case keywords and entities, single spaces,
    /// the fewest parentheses that keep the tree. Two queries that parse to the same tree
    /// print the same, so this is the cache key of a slice; parsing it gives the tree back.
    ///
    /// Diffgram's spellings that need no names print in Sluice's: `file.sensor` as
    /// `file.metadata.sensor`, `dataset_tag.tag` as `dataset.tag`, `2 < labels.cat` as
    /// `labels.cat > 2`. A name written with underscores for spaces needs the project's names:
    /// see `normalized(against:)`.
    public var normalized: String { format(expression) }

    /// The canonical spelling against a project's names: `normalized` after
    /// `resolvingNames(in:)`, so `labels.traffic_light` prints `labels."traffic light"` when
    /// only the label with a space exists. One meaning, one text: slice ids and the slice
    /// cache key on it.
    public func normalized(against schema: QuerySchema) -> String {
        resolvingNames(in: schema).normalized
    }
}

private func precedence(_ query: Expression) -> Int {
    switch query {
    case .or: 1
    case .and: 2
    case .not: 3
    case .comparison: 4
    }
}

private func format(_ query: Expression) -> String {
    func child(_ q: Expression, parenthesizedBelow level: Int) -> String {
        precedence(q) < level ? "(\(format(q)))" : format(q)
    }
    switch query {
    case .comparison(let c):
        return format(c)
    case .not(let inner):
        return "not " + child(inner, parenthesizedBelow: 3)
    case .and(let l, let r):
        // Chains lean left as parsed; a right-hand chain keeps its parentheses.
        return child(l, parenthesizedBelow: 2) + " and " + child(r, parenthesizedBelow: 3)
    case .or(let l, let r):
        return child(l, parenthesizedBelow: 1) + " or " + child(r, parenthesizedBelow: 2)
    }
}

private func format(_ c: Comparison) -> String {
    let op = c.op.rawValue
    return "\(format(c.field)) \(op) \(format(c.value))"
}

private func format(_ field: Field) -> String {
    switch field {
    case .label(let name):
        return "labels." + labelName(name)
    case .anyLabel: return "labels.any"
    case .file(let f): return "file." + f.rawValue
    case .fileMetadata(let path): return "file.metadata." + path.map(formatName).joined(separator: ".")
    case .attribute(let name): return "attribute." + formatName(name)
    case .datasetName: return "dataset.name"
    case .datasetID: return "dataset.id"
    case .datasetTag: return "dataset.tag"
    case .frames(let name): return "frames." + (name.map(labelName) ?? "any")
    case .tracks(let name): return "tracks." + (name.map(labelName) ?? "any")
    }
}

/// A label's name after `labels.`, `frames.` or `tracks.`: one named "any" stays quoted, or it
/// would read as `.any`.
private func labelName(_ name: String) -> String {
    name.lowercased() == "any" ? quote(name) : formatName(name)
}

/// A name as a bare word when it lexes as one, quoted otherwise.
private func formatName(_ name: String) -> String {
    guard let first = name.first, Lexer.isWordStart(first), name.allSatisfy(Lexer.isWordPart) else { return quote(name) }
    return name
}

/// By Unicode scalars: a quote or backslash with a combining mark after it is one Character,
/// and must be escaped all the same (the lexer reads strings by scalars too).
private func quote(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    out.append("\"")
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
        case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        default: out.append(scalar)
        }
    }
    out.append("\"")
    return String(out)
}

func formatNumber(_ n: Double) -> String {
    if n.rounded() == n, abs(n) < 1e15 { return String(Int64(n)) }
    return "\(n)"
}

private func format(_ value: Literal) -> String {
    switch value {
    case .number(let n): formatNumber(n)
    case .string(let s): quote(s)
    case .bool(let b): b ? "true" : "false"
    case .date(let d): d
    case .list(let elements): "[" + elements.map(format).joined(separator: ", ") + "]"
    }
}
