import SluiceModel

/// How a query's label and attribute-group names find the project's: the name as written,
/// else — Diffgram's reading — the name with its underscores read as spaces, so
/// `labels.traffic_light` is the label "traffic light". A label that really has the
/// underscore wins: the fallback is taken only when the name as written does not exist.
struct NameResolver {
    let labelsByName: [String: Label]
    let groupsByName: [String: AttributeGroup]
    let schema: QuerySchema

    init(schema: QuerySchema) {
        self.schema = schema
        labelsByName = Dictionary(schema.labels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        groupsByName = Dictionary(schema.attributeGroups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The name with every underscore read as a space; nil when it has none.
    static func spaced(_ name: String) -> String? {
        name.contains("_") ? String(name.map { $0 == "_" ? " " : $0 }) : nil
    }

    func label(named name: String) -> Label? {
        labelsByName[name] ?? Self.spaced(name).flatMap { labelsByName[$0] }
    }

    func group(named name: String) -> AttributeGroup? {
        groupsByName[name] ?? Self.spaced(name).flatMap { groupsByName[$0] }
    }

    /// The closest existing names for an unknown one: to the name as written and, when it has
    /// underscores, to its spaced reading (`trafic_light` offers "traffic light").
    static func suggestions(for name: String, in names: [String]) -> [String] {
        var out = spaced(name).map { closestNames(to: $0, in: names) } ?? []
        for candidate in closestNames(to: name, in: names) where !out.contains(candidate) { out.append(candidate) }
        return Array(out.prefix(3))
    }
}

extension Query {
    /// The query with each label and attribute-group name replaced by the name it resolves to
    /// in `schema` (`labels.traffic_light` → `labels."traffic light"` when only that label
    /// exists). Unknown names stay as written, for the checker to report.
    public func resolvingNames(in schema: QuerySchema) -> Query {
        let resolver = NameResolver(schema: schema)
        func resolve(_ expression: Expression) -> Expression {
            switch expression {
            case .and(let l, let r): return .and(resolve(l), resolve(r))
            case .or(let l, let r): return .or(resolve(l), resolve(r))
            case .not(let q): return .not(resolve(q))
            case .comparison(var c):
                switch c.field {
                case .label(let name): c.field = .label(resolver.label(named: name)?.name ?? name)
                case .frames(let name?): c.field = .frames(resolver.label(named: name)?.name ?? name)
                case .tracks(let name?): c.field = .tracks(resolver.label(named: name)?.name ?? name)
                case .attribute(let name): c.field = .attribute(resolver.group(named: name)?.name ?? name)
                default: break
                }
                return .comparison(c)
            }
        }
        return Query(expression: resolve(expression), text: text)
    }

    /// Whether a label or attribute-group name has an underscore: only then can the project's
    /// names change how the query prints (`normalized(against:)`), so only then does a
    /// server need them before its slice cache.
    public var namesMayNeedResolving: Bool {
        expression.contains { field in
            switch field {
            case .label(let name), .attribute(let name), .frames(let name?), .tracks(let name?): name.contains("_")
            default: false
            }
        }
    }

    /// Whether the query tests `dataset.tag`: its result then depends on tags, which no
    /// dataset version counts, so a slice cache keys it on the project's tag revision too.
    public var testsDatasetTags: Bool {
        expression.contains { $0 == .datasetTag }
    }
}

extension Expression {
    /// Whether any comparison's field satisfies `test`.
    func contains(where test: (Field) -> Bool) -> Bool {
        switch self {
        case .and(let l, let r), .or(let l, let r): l.contains(where: test) || r.contains(where: test)
        case .not(let q): q.contains(where: test)
        case .comparison(let c): test(c.field)
        }
    }
}
